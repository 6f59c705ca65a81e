using System.Text.Json;
using Microsoft.Extensions.Options;
using TwinGateway.Commissioning.Audit;
using TwinGateway.Commissioning.Gate;
using TwinGateway.Commissioning.Policy;
using TwinGateway.Commissioning.Store;
using TwinGateway.Core;
using TwinGateway.Core.Lines;
using TwinGateway.Drift.Alerts;
using TwinGateway.Drift.Features;
using TwinGateway.Drift.Inference;
using TwinGateway.Drift.Live;
using TwinGateway.Drift.Models;
using TwinGateway.Drift.Registry;
using TwinGateway.Gateway;
using TwinGateway.Host.Commissioning;
using TwinGateway.Telemetry;
using TwinGateway.Telemetry.Recording;

namespace TwinGateway.Host.Drift;

/// <summary>What an activation did: the model (active, or waiting with <see cref="Request"/>), the approvals the policy needs, in words.</summary>
internal sealed record ActivationOutcome(RegisteredModel Model, bool Pending, ModelActivationRequest? Request, int ApprovalsNeeded, string Message);

/// <summary>
/// Drift detection in the gateway: the alert store and model registry (in <c>changes.db</c>, beside the commissioning
/// records), the alert engine, the detector that is a sink of every line, ONNX Runtime's provider, and what the API
/// does with them: train on a recorded range, activate (audited), score a range.
/// </summary>
internal sealed partial class DriftRuntime : IDisposable
{
    private readonly DriftOptions _options;
    private readonly CommissioningStores _stores;
    private readonly TelemetryRecorder _recorder;
    private readonly LineConfiguration _lines;
    private readonly TimeProvider _time;
    private readonly ILogger<DriftRuntime> _logger;
    private readonly ILoggerFactory _loggers;
    private readonly SqliteAlertStore _alerts;
    private readonly Dictionary<string, OnnxScorer> _scorers = new(StringComparer.Ordinal);
    private readonly Lock _scorersLock = new();
    private readonly SemaphoreSlim _training = new(1, 1);
    private readonly ValidationPolicies _policies;

    public DriftRuntime(IOptions<DriftOptions> options, CommissioningStores stores, TelemetryRecorder recorder, LineConfiguration lines,
        ValidationPolicies policies, TimeProvider time, ILoggerFactory loggers)
    {
        _policies = policies;
        _options = options.Value;
        _stores = stores;
        _recorder = recorder;
        _lines = lines;
        _time = time;
        _loggers = loggers;
        _logger = loggers.CreateLogger<DriftRuntime>();
        Directory.CreateDirectory(stores.DataFolder);
        var records = Path.Combine(stores.DataFolder, SqliteChangeStore.FileName);
        _alerts = SqliteAlertStore.Open(records);
        Registry = ModelRegistry.Open(records, stores.DataFolder, time);
        Engine = new AlertEngine(_alerts, _options.Alerts);
        Feed = new AlertFeed();
        Execution = ExecutionProviders.Choose(_options.ForceCpu, loggers.CreateLogger("TwinGateway.Drift.Inference"));
        Monitor = new DriftMonitor(_options.Monitor, Engine, Feed, LoadActive);
    }

    public DriftOptions Options => _options;

    public ModelRegistry Registry { get; }

    public AlertEngine Engine { get; }

    public IAlertStore Alerts => _alerts;

    public AlertFeed Feed { get; }

    public ExecutionChoice Execution { get; }

    public DriftMonitor Monitor { get; }

    public LineDefinition? FindLine(string id) => _lines.Lines.FirstOrDefault(l => string.Equals(l.Id, id, StringComparison.Ordinal));

    /// <summary>The line's active model, ready to score; null when none is active. Throws <see cref="ArgumentException"/> when it does not fit the line.</summary>
    public ActiveModel? LoadActive(LineDefinition line)
    {
        ArgumentNullException.ThrowIfNull(line);
        if (Registry.Active(line.Id) is not { } active)
        {
            return null;
        }

        try
        {
            var scorer = Scorer(line, active);
            return new ActiveModel(active.Version, scorer.Card, scorer);
        }
        catch (Exception ex) when (ex is ModelRegistryException or FormatException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
        {
            // A model file removed, changed on disk or unreadable: the line runs on the physics rule alone, and says why.
            Log.ModelNotLoaded(_logger, line.Id, active.Version, ex.Message);
            return null;
        }
    }

    private OnnxScorer Scorer(LineDefinition line, RegisteredModel model)
    {
        lock (_scorersLock)
        {
            var key = model.Line + "/" + model.Version;
            if (_scorers.TryGetValue(key, out var cached))
            {
                return cached;
            }

            var bytes = Registry.ReadModelBytes(model.Line, model.Version);
            var card = ModelFile.ReadCard(bytes);
            if (ModelFile.Check(card, line.Id, LineFeatures.For(line).Names) is { } problem)
            {
                Log.ModelDoesNotFit(_logger, line.Id, model.Version, problem);
                throw new ArgumentException($"model {model.Version} of line '{line.Id}' does not fit the line: {problem}");
            }

            var scorer = OnnxScorer.Load(bytes, Execution, _loggers.CreateLogger("TwinGateway.Drift.Inference"));
            _scorers[key] = scorer;
            return scorer;
        }
    }

    /// <summary>The line's samples from <paramref name="from"/> to <paramref name="to"/> as frames, read from the flight recorder.</summary>
    public FrameMatrix ReadFrames(LineDefinition line, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        var features = LineFeatures.For(line);
        var builder = new FrameBuilder(features, _options.Monitor.FrameInterval);
        var collector = new FrameCollector(features);
        ReadRecorded(line, from, to, (signal, ms, value, expected, good) => builder.Add(signal, ms, value, expected, good, collector), cancellationToken);
        builder.Advance(TelemetryTime.ToUnixNanoseconds(to) / 1_000_000, collector);
        return collector.ToMatrix();
    }

    /// <summary>
    /// Scores a recorded range through the same code as the live detector (a line monitor without alerts): one row per
    /// frame with the physics rule's score and, with a model (the version given, else the active one), the model's.
    /// </summary>
    public (RegisteredModel? Model, IReadOnlyList<FrameScore> Frames) ScoreRange(string lineId, DateTimeOffset from, DateTimeOffset to, string? version,
        CancellationToken cancellationToken)
    {
        var line = FindLine(lineId) ?? throw new KeyNotFoundException($"no line '{lineId}'");
        var model = string.IsNullOrWhiteSpace(version)
            ? Registry.Active(lineId)
            : Registry.Get(lineId, version) ?? throw new KeyNotFoundException($"line '{lineId}' has no model version '{version}'");
        var monitor = new LineDriftMonitor(line, _options.Monitor);
        if (model is not null)
        {
            var scorer = Scorer(line, model);
            monitor.SetModel(new ActiveModel(model.Version, scorer.Card, scorer));
        }

        var frames = new List<FrameScore>();
        monitor.FrameScored = frames.Add;
        ReadRecorded(line, from, to, monitor.Add, cancellationToken);
        return (model, frames);
    }

    /// <summary>Every recorded sample of the line's signals in the range, in source-time order: (signal index, Unix ms, value, expected, good).</summary>
    private void ReadRecorded(LineDefinition line, DateTimeOffset from, DateTimeOffset to, Action<int, long, double?, double?, bool> sample,
        CancellationToken cancellationToken)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < line.Signals.Length; i++)
        {
            index[line.Signals[i].Id] = i;
        }

        var count = 0L;
        foreach (var recorded in _recorder.ReadRange(line.Id, TelemetryTime.ToUnixNanoseconds(from), TelemetryTime.ToUnixNanoseconds(to)))
        {
            if (++count % 65536 == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            var s = recorded.Sample;
            if (index.TryGetValue(s.Series.SignalId, out var signal))
            {
                sample(signal, s.SourceTime / 1_000_000, s.Value, s.Expected, s.Status == 0);
            }
        }
    }

    /// <summary>
    /// Trains a model of <paramref name="kind"/> on the recorded range the caller declares healthy and registers it;
    /// activates it when asked (audited as the caller's decision). One training at a time per gateway.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown line, or too little data (the message says how much).</exception>
    public async Task<RegisteredModel> TrainAsync(string lineId, DateTimeOffset from, DateTimeOffset to, ModelKind? kind, string by, bool activate,
        IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        var line = FindLine(lineId) ?? throw new KeyNotFoundException($"no line '{lineId}' (the gateway runs {string.Join(", ", _lines.Lines.Select(l => l.Id))})");
        if (to <= from)
        {
            throw new ArgumentException($"the range {from:O} to {to:O} is empty: 'to' must be after 'from'");
        }

        var chosen = kind ?? (DriftTrainers.TryParse(_options.DefaultModel, out var configured) ? configured : ModelKind.Pca);
        await _training.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var registered = await Task.Run(() =>
            {
                progress?.Report(new TrainingProgress("reading", 0));
                var frames = ReadFrames(line, from, to, cancellationToken);
                if (frames.Rows == 0)
                {
                    throw new ArgumentException($"the flight recorder holds no samples of line '{line.Id}' from {from:O} to {to:O}");
                }

                var model = DriftTrainers.Create(chosen).Train(frames, _options.Training, progress, cancellationToken);
                var card = new ModelCard(line.Id, "", chosen, frames.Columns, model.Window, _options.FrameSeconds * 1000,
                    [.. model.Mean], [.. model.Scale], model.Metrics.Threshold, _options.ThresholdQuantile, _options.ThresholdMargin,
                    from, to, TrainingData.Hash(frames), _time.GetUtcNow(), by, model.Metrics);
                var result = Registry.Register(line.Id, card, model.ExportOnnx, by);
                progress?.Report(new TrainingProgress("registered", 1));
                return result;
            }, cancellationToken).ConfigureAwait(false);
            Log.Trained(_logger, line.Id, registered.Version, DriftTrainers.Name(chosen), by, registered.Card.Metrics.FitRows, registered.Card.Metrics.HoldBackRows);
            if (activate)
            {
                await ActivateAsync(line.Id, registered.Version, by, cancellationToken).ConfigureAwait(false);
            }


            return registered;
        }
        finally
        {
            _training.Release();
        }
    }

    /// <summary>
    /// Activates <paramref name="version"/> for <paramref name="by"/>: checked against the line's compared signals; when
    /// the line's validation policy sets <c>modelApprovals</c>, it waits for that many approvals by others (recorded in
    /// the audit chain as requested), otherwise it is active at once.
    /// </summary>
    /// <exception cref="KeyNotFoundException">Unknown line or version.</exception>
    /// <exception cref="ArgumentException">The model does not fit the line, or the line's policy does not load.</exception>
    public async Task<ActivationOutcome> ActivateAsync(string lineId, string version, string by, CancellationToken cancellationToken)
    {
        var line = FindLine(lineId) ?? throw new KeyNotFoundException($"no line '{lineId}'");
        var model = Registry.Get(lineId, version) ?? throw new KeyNotFoundException($"line '{lineId}' has no model version '{version}'");
        var scorer = Scorer(line, model); // throws ArgumentException when it does not fit
        var needed = ApprovalsNeeded(line);
        if (needed == 0)
        {
            return await ActivateNowAsync(line, model, scorer, by, [], cancellationToken).ConfigureAwait(false);
        }

        var request = Registry.RequestActivation(lineId, model.Version, by);
        var audit = await _stores.GetAuditAsync(cancellationToken).ConfigureAwait(false);
        await audit.AppendAsync(new AuditRecord(lineId, null, AuditEventKind.ModelActivationRequested, by, Authority.Human,
            JsonSerializer.Serialize(new { version = model.Version, approvalsNeeded = needed, sha256 = model.Sha256 })), CancellationToken.None).ConfigureAwait(false);
        Log.Requested(_logger, lineId, model.Version, by, needed);
        return new ActivationOutcome(model, true, request, needed,
            $"activation of model {model.Version} on line '{lineId}' requested by {by}; the line's policy needs {needed} approval(s) by others "
            + $"(approver, safety or admin): `twingw drift approve --line {lineId} --version {model.Version}`");
    }

    /// <summary>Adds <paramref name="by"/>'s approval to a pending activation; the last one needed activates the model.</summary>
    /// <exception cref="ModelRegistryException">No pending request, or the approval is refused (four eyes); the message says why.</exception>
    public async Task<ActivationOutcome> ApproveAsync(string lineId, string version, string by, CancellationToken cancellationToken)
    {
        var line = FindLine(lineId) ?? throw new KeyNotFoundException($"no line '{lineId}'");
        var model = Registry.Get(lineId, version) ?? throw new KeyNotFoundException($"line '{lineId}' has no model version '{version}'");
        var scorer = Scorer(line, model);
        var request = Registry.Approve(lineId, model.Version, by);
        var audit = await _stores.GetAuditAsync(cancellationToken).ConfigureAwait(false);
        await audit.AppendAsync(new AuditRecord(lineId, null, AuditEventKind.ModelActivationApproved, by, Authority.Human,
            JsonSerializer.Serialize(new { version = model.Version, requestedBy = request.RequestedBy, sha256 = model.Sha256 })), CancellationToken.None).ConfigureAwait(false);
        var needed = ApprovalsNeeded(line);
        if (request.ApprovedBy.Length < needed)
        {
            return new ActivationOutcome(model, true, request, needed,
                $"{by} approved model {model.Version} of line '{lineId}'; {needed - request.ApprovedBy.Length} more approval(s) needed");
        }

        var outcome = await ActivateNowAsync(line, model, scorer, request.RequestedBy, request.ApprovedBy, cancellationToken).ConfigureAwait(false);
        Registry.CloseRequest(lineId, model.Version);
        return outcome with { Request = request };
    }

    private int ApprovalsNeeded(LineDefinition line)
    {
        // A line without a policy file takes no changes, but its models need nobody's approval but the engineer's.
        if (!File.Exists(ValidationPolicyLoader.PathFor(_policies.Directory, line.Id)))
        {
            return 0;
        }

        try
        {
            return _policies.Get(line).Policy.ModelApprovals;
        }
        catch (ChangeRefusedException ex)
        {
            throw new ArgumentException($"{ex.Message}: {string.Join("; ", ex.Problems)}; fix the policy before activating a model", ex);
        }
    }

    private async Task<ActivationOutcome> ActivateNowAsync(LineDefinition line, RegisteredModel model, OnnxScorer scorer, string by, IReadOnlyList<string> approvedBy,
        CancellationToken cancellationToken)
    {
        var audit = await _stores.GetAuditAsync(cancellationToken).ConfigureAwait(false);
        Registry.Activate(line.Id, model.Version, by);
        await audit.AppendAsync(new AuditRecord(line.Id, null, AuditEventKind.ModelActivated, by, Authority.Statistical, JsonSerializer.Serialize(new
        {
            version = model.Version,
            kind = DriftTrainers.Name(model.Card.Kind),
            trainedFrom = model.Card.TrainedFrom,
            trainedTo = model.Card.TrainedTo,
            trainingDataHash = model.Card.TrainingDataHash,
            threshold = model.Card.Threshold,
            sha256 = model.Sha256,
            approvedBy,
        })), CancellationToken.None).ConfigureAwait(false);
        Monitor.Get(line.Id)?.SetModel(new ActiveModel(model.Version, scorer.Card, scorer));
        Log.Activated(_logger, line.Id, model.Version, by);
        return new ActivationOutcome(Registry.Get(line.Id, model.Version)!, false, null, approvedBy.Count,
            $"line {line.Id}: model {model.Version} ({DriftTrainers.Name(model.Card.Kind)}) is active, activated by {by}"
            + (approvedBy.Count > 0 ? $", approved by {string.Join(", ", approvedBy)}" : ""));
    }

    public void Dispose()
    {
        lock (_scorersLock)
        {
            foreach (var scorer in _scorers.Values)
            {
                scorer.Dispose();
            }

            _scorers.Clear();
        }

        Registry.Dispose();
        _alerts.Dispose();
        _training.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 7101, Level = LogLevel.Information, Message = "Drift model {Version} of line {Line} trained ({Kind}) by {By}: {FitRows} frames fitted, {HoldBackRows} held back for the threshold")]
        public static partial void Trained(ILogger logger, string line, string version, string kind, string by, int fitRows, int holdBackRows);

        [LoggerMessage(EventId = 7102, Level = LogLevel.Information, Message = "Drift model {Version} is now active on line {Line} (activated by {By}; authority statistical)")]
        public static partial void Activated(ILogger logger, string line, string version, string by);

        [LoggerMessage(EventId = 7104, Level = LogLevel.Information, Message = "Activation of drift model {Version} on line {Line} requested by {By}: waits for {Needed} approval(s)")]
        public static partial void Requested(ILogger logger, string line, string version, string by, int needed);

        [LoggerMessage(EventId = 7105, Level = LogLevel.Warning, Message = "The active drift model {Version} of line {Line} cannot be used: {Reason}; the physics rule watches the line alone until a model is activated again")]
        public static partial void ModelNotLoaded(ILogger logger, string line, string version, string reason);

        [LoggerMessage(EventId = 7103, Level = LogLevel.Warning, Message = "Drift model {Version} of line {Line} does not fit the line and is not used: {Problem}; the physics rule watches the line alone until a fitting model is activated")]
        public static partial void ModelDoesNotFit(ILogger logger, string line, string version, string problem);
    }
}
