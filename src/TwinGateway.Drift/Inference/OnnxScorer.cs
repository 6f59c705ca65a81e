using System.Buffers;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using TwinGateway.Drift.Models;

namespace TwinGateway.Drift.Inference;

/// <summary>
/// Scores a model file of any kind that follows the <see cref="DriftModel"/> contract with ONNX Runtime: one
/// <c>Run</c> per <see cref="Score"/> call over the whole batch. Thread-safe (ONNX Runtime sessions allow concurrent
/// runs; each call uses its own pooled buffers).
/// </summary>
public sealed partial class OnnxScorer : IDisposable, Live.IWindowScorer
{
    private static readonly string[] InputNames = ["window"];
    private static readonly string[] OutputNames = ["score", "contributions"];

    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();

    private OnnxScorer(InferenceSession session, ModelCard card, ExecutionChoice execution)
    {
        _session = session;
        Card = card;
        Execution = execution;
    }

    /// <summary>The card read from the model's metadata.</summary>
    public ModelCard Card { get; }

    /// <summary>The provider the session runs on.</summary>
    public ExecutionChoice Execution { get; }

    public int Window => Card.Window;

    public int Features => Card.Features.Length;

    /// <summary>
    /// Opens <paramref name="model"/> on <paramref name="choice"/>'s provider and reads its card; throws
    /// <see cref="FormatException"/> when the bytes are not a model of the contract (no card, other inputs or outputs).
    /// </summary>
    public static OnnxScorer Load(byte[] model, ExecutionChoice choice, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(choice);
        using var options = ExecutionProviders.SessionOptionsFor(choice);
        InferenceSession session;
        try
        {
            session = new InferenceSession(model, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new FormatException($"ONNX Runtime cannot load the model file ({model.Length} bytes): {e.Message}", e);
        }

        try
        {
            if (!session.ModelMetadata.CustomMetadataMap.TryGetValue(ModelCard.MetadataKey, out var json))
            {
                throw new FormatException($"the model file has no '{ModelCard.MetadataKey}' metadata: it was not written by TwinGateway");
            }

            var card = ModelCard.FromJson(json);
            if (!session.InputMetadata.ContainsKey(InputNames[0]) || OutputNames.Any(o => !session.OutputMetadata.ContainsKey(o)))
            {
                throw new FormatException(
                    $"the model's inputs ({string.Join(", ", session.InputMetadata.Keys)}) and outputs ({string.Join(", ", session.OutputMetadata.Keys)}) " +
                    "are not the contract's 'window' -> 'score', 'contributions'");
            }

            if (logger is not null)
            {
                LogLoaded(logger, card.Kind, card.Line, card.Version, card.Features.Length, card.Window, choice.Provider);
            }

            return new OnnxScorer(session, card, choice);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>Same signature and meaning as <see cref="DriftModel.Score"/>: <paramref name="count"/> windows in, scores and contributions out.</summary>
    public void Score(ReadOnlySpan<float> windows, int count, Span<float> scores, Span<float> contributions)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var features = Features;
        var inputLength = count * Window * features;
        if (windows.Length < inputLength || scores.Length < count || contributions.Length < count * features)
        {
            throw new ArgumentException(
                $"{count} windows of {Window} x {features} need {inputLength} values, {count} scores and {count * features} contributions; got {windows.Length}, {scores.Length} and {contributions.Length}");
        }

        if (count == 0)
        {
            return;
        }

        // ONNX Runtime reads and writes pinned managed arrays; the caller's spans may be neither, so one copy each way.
        var input = ArrayPool<float>.Shared.Rent(inputLength);
        var scoreBuffer = ArrayPool<float>.Shared.Rent(count);
        var contributionBuffer = ArrayPool<float>.Shared.Rent(count * features);
        try
        {
            windows[..inputLength].CopyTo(input);
            var memory = OrtMemoryInfo.DefaultInstance;
            using var inputValue = OrtValue.CreateTensorValueFromMemory(memory, input.AsMemory(0, inputLength), [count, Window, features]);
            using var scoreValue = OrtValue.CreateTensorValueFromMemory(memory, scoreBuffer.AsMemory(0, count), [count]);
            using var contributionValue = OrtValue.CreateTensorValueFromMemory(memory, contributionBuffer.AsMemory(0, count * features), [count, features]);
            _session.Run(_runOptions, InputNames, [inputValue], OutputNames, [scoreValue, contributionValue]);
            scoreBuffer.AsSpan(0, count).CopyTo(scores);
            contributionBuffer.AsSpan(0, count * features).CopyTo(contributions);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(input);
            ArrayPool<float>.Shared.Return(scoreBuffer);
            ArrayPool<float>.Shared.Return(contributionBuffer);
        }
    }

    public void Dispose()
    {
        _session.Dispose();
        _runOptions.Dispose();
    }

    [LoggerMessage(EventId = 7152, Level = LogLevel.Information, Message = "Loaded the {Kind} drift model of line '{Line}' version {Version} ({Features} features, window {Window}) on the {Provider} provider")]
    private static partial void LogLoaded(ILogger logger, ModelKind kind, string line, string version, int features, int window, ExecutionProvider provider);
}
