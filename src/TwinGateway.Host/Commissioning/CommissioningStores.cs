using Microsoft.Extensions.Options;
using TwinGateway.Commissioning.Audit;
using TwinGateway.Commissioning.Store;
using TwinGateway.Host.Telemetry;

namespace TwinGateway.Host.Commissioning;

/// <summary>
/// The commissioning records of the gateway's data folder: the audit log (<c>audit.db</c> and its signing key) and the
/// change store (<c>changes.db</c>), each opened once, on first use, and closed with the gateway.
/// </summary>
internal sealed class CommissioningStores(IOptions<TelemetryOptions> telemetry, TimeProvider time, ILoggerFactory loggers) : IAsyncDisposable
{
    private readonly SemaphoreSlim _open = new(1, 1);
    private AuditLog? _audit;
    private SqliteChangeStore? _changes;

    /// <summary>The data folder the records live in (the one the flight recorder uses).</summary>
    public string DataFolder { get; } = Path.GetFullPath(telemetry.Value.DataFolder);

    public async Task<AuditLog> GetAuditAsync(CancellationToken cancellationToken)
    {
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        return _audit!;
    }

    public async Task<IChangeStore> GetChangesAsync(CancellationToken cancellationToken)
    {
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        return _changes!;
    }

    private async Task EnsureOpenAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _changes) is not null)
        {
            return;
        }

        await _open.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _audit ??= await AuditLog.OpenAsync(DataFolder, time, loggers.CreateLogger<AuditLog>(), cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _changes, await SqliteChangeStore.OpenAsync(DataFolder, cancellationToken).ConfigureAwait(false));
        }
        finally
        {
            _open.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_changes is not null)
        {
            await _changes.DisposeAsync().ConfigureAwait(false);
        }

        if (_audit is not null)
        {
            await _audit.DisposeAsync().ConfigureAwait(false);
        }

        _open.Dispose();
    }
}
