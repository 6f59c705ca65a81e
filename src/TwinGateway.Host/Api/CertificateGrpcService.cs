using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using TwinGateway.Api.V1;
using TwinGateway.Host.Identity;
using TwinGateway.OpcUa.Security.Pki;

namespace TwinGateway.Host.Api;

/// <summary>CertificateService: the OPC UA certificate stores of <c>&lt;data folder&gt;/pki</c> for an admin over the API.</summary>
internal sealed partial class CertificateGrpcService(DirectoryCertificateStore store, ApplicationCertificates own, ILogger<CertificateGrpcService> log)
    : CertificateService.CertificateServiceBase
{
    public override Task<ListCertificatesResponse> ListCertificates(ListCertificatesRequest request, ServerCallContext context)
    {
        var response = new ListCertificatesResponse();
        response.Certificates.AddRange(Run(() => store.List(FromProto(request.Store))).Select(ToProto));
        return Task.FromResult(response);
    }

    public override Task<GetCertificateResponse> GetCertificate(GetCertificateRequest request, ServerCallContext context)
    {
        var found = Run(() => store.Find(request.Thumbprint));
        var response = new GetCertificateResponse { Der = ByteString.CopyFrom(found[0].Certificate.RawData) };
        response.Certificates.AddRange(found.Select(ToProto));
        return Task.FromResult(response);
    }

    public override Task<TrustCertificateResponse> TrustCertificate(TrustCertificateRequest request, ServerCallContext context)
    {
        var trusted = request.WhatCase switch
        {
            TrustCertificateRequest.WhatOneofCase.Thumbprint => Run(() => store.Trust(request.Thumbprint)),
            TrustCertificateRequest.WhatOneofCase.Certificate => Run(() => store.TrustCertificate(request.Certificate.Span)),
            _ => throw new RpcException(new Status(StatusCode.InvalidArgument, "give the thumbprint of a certificate in a store, or the certificate to trust")),
        };
        Changed(log, "trusted", trusted.Subject, trusted.Thumbprint, CallerIdentity.Get(context).Name);
        return Task.FromResult(new TrustCertificateResponse { Certificate = ToProto(trusted) });
    }

    public override Task<RejectCertificateResponse> RejectCertificate(RejectCertificateRequest request, ServerCallContext context)
    {
        var rejected = Run(() => store.Reject(request.Thumbprint));
        Changed(log, "rejected", rejected.Subject, rejected.Thumbprint, CallerIdentity.Get(context).Name);
        return Task.FromResult(new RejectCertificateResponse { Certificate = ToProto(rejected) });
    }

    public override Task<RemoveCertificateResponse> RemoveCertificate(RemoveCertificateRequest request, ServerCallContext context)
    {
        var removed = Run(() => store.Remove(request.Thumbprint));
        Changed(log, "removed", removed[0].Subject, removed[0].Thumbprint, CallerIdentity.Get(context).Name);
        var response = new RemoveCertificateResponse();
        response.Certificates.AddRange(removed.Select(ToProto));
        return Task.FromResult(response);
    }

    public override Task<ExportOwnCertificateResponse> ExportOwnCertificate(ExportOwnCertificateRequest request, ServerCallContext context)
    {
        using var certificate = Run(own.LoadOrCreate);
        var exported = Run(() => store.ExportOwn(request.Pem));
        return Task.FromResult(new ExportOwnCertificateResponse { Certificate = ByteString.CopyFrom(exported), Thumbprint = certificate.Thumbprint });
    }

    private static T Run<T>(Func<T> operation)
    {
        try
        {
            return operation();
        }
        catch (PkiException ex)
        {
            throw new RpcException(new Status(ex.Problem switch
            {
                PkiProblem.NotFound => StatusCode.NotFound,
                PkiProblem.InvalidInput => StatusCode.InvalidArgument,
                _ => StatusCode.Unavailable,
            }, ex.Message));
        }
    }

    private static PkiStoreName? FromProto(CertificateStore store) => store switch
    {
        CertificateStore.Own => PkiStoreName.Own,
        CertificateStore.Trusted => PkiStoreName.Trusted,
        CertificateStore.Issuers => PkiStoreName.Issuers,
        CertificateStore.Rejected => PkiStoreName.Rejected,
        _ => null,
    };

    internal static Certificate ToProto(CertificateEntry entry) => new()
    {
        Store = entry.Store switch
        {
            PkiStoreName.Own => CertificateStore.Own,
            PkiStoreName.Trusted => CertificateStore.Trusted,
            PkiStoreName.Issuers => CertificateStore.Issuers,
            _ => CertificateStore.Rejected,
        },
        Subject = entry.Subject,
        Thumbprint = entry.Thumbprint,
        ApplicationUri = entry.ApplicationUri ?? "",
        NotBefore = Timestamp.FromDateTimeOffset(entry.NotBefore),
        NotAfter = Timestamp.FromDateTimeOffset(entry.NotAfter),
        Issuer = entry.Issuer,
        SelfSigned = entry.SelfSigned,
        CertificateAuthority = entry.Authority,
    };

    [LoggerMessage(EventId = 4602, Level = LogLevel.Information, Message = "Certificate {Subject} ({Thumbprint}) {Action} by {Admin}")]
    private static partial void Changed(ILogger logger, string action, string subject, string thumbprint, string admin);
}
