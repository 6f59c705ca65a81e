using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using TwinGateway.Api.V1;
using TwinGateway.Commissioning.Audit;
using TwinGateway.Host.Commissioning;

namespace TwinGateway.Host.Api;

/// <summary>AuditService: the signed, hash-chained audit log, read and verified through the running gateway.</summary>
internal sealed class AuditGrpcService(CommissioningStores stores) : AuditService.AuditServiceBase
{
    private const int DefaultMaxCount = 1000;

    public override async Task<ListAuditEntriesResponse> ListEntries(ListAuditEntriesRequest request, ServerCallContext context)
    {
        var log = await stores.GetAuditAsync(context.CancellationToken).ConfigureAwait(false);
        var max = request.MaxCount > 0 ? Math.Min(request.MaxCount, 100_000) : DefaultMaxCount;
        var response = new ListAuditEntriesResponse();
        await foreach (var entry in AuditQuery.ReadAsync(log.Store, request.FromSequence, NullIfEmpty(request.Line), NullIfEmpty(request.Change), max, context.CancellationToken).ConfigureAwait(false))
        {
            response.Entries.Add(ToProto(entry));
        }

        return response;
    }

    public override async Task<VerifyChainResponse> VerifyChain(VerifyChainRequest request, ServerCallContext context)
    {
        var log = await stores.GetAuditAsync(context.CancellationToken).ConfigureAwait(false);
        var result = await log.VerifyAsync(context.CancellationToken).ConfigureAwait(false);
        return new VerifyChainResponse
        {
            Valid = result.IsValid,
            EntriesChecked = result.EntriesChecked,
            FirstBadSequence = result.FirstBadSequence ?? 0,
            Problem = result.Problem.ToString().ToLowerInvariant(),
            Message = result.Message,
            PublicKeyFingerprint = log.PublicKey.Fingerprint,
            PublicKeyPem = log.PublicKey.ExportPem(),
        };
    }

    private static string? NullIfEmpty(string text) => string.IsNullOrEmpty(text) ? null : text;

    internal static TwinGateway.Api.V1.AuditEntry ToProto(TwinGateway.Commissioning.Audit.AuditEntry entry) => new()
    {
        Sequence = entry.Sequence,
        Time = Timestamp.FromDateTimeOffset(entry.Time),
        Line = entry.LineId,
        Change = entry.ChangeId ?? "",
        Kind = entry.Kind.ToText(),
        Actor = entry.Actor,
        Authority = entry.Authority.ToText(),
        Payload = entry.Payload,
        PreviousHash = Convert.ToHexStringLower(entry.PreviousHash.Span),
        Hash = entry.HashHex,
    };
}
