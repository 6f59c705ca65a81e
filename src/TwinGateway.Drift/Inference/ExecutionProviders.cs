using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace TwinGateway.Drift.Inference;

/// <summary>Where ONNX Runtime runs the models.</summary>
public enum ExecutionProvider
{
    /// <summary>ONNX Runtime's CPU provider (always available).</summary>
    Cpu,

    /// <summary>The CUDA provider (needs the CUDA and cuDNN libraries the GPU package was built against).</summary>
    Cuda,
}

/// <summary>The provider chosen and why, for the log and for <c>drift status</c>.</summary>
/// <param name="Provider">The provider sessions are created with.</param>
/// <param name="Reason">Why: "CUDA loaded", "forced to the CPU by the option", or the loader's message (a missing library).</param>
public sealed record ExecutionChoice(ExecutionProvider Provider, string Reason);

/// <summary>
/// Decides once per process whether the CUDA provider loads, by appending it to a throw-away session options inside a
/// try/catch; a failure is not an error (a machine without the CUDA libraries scores on the CPU) and is logged as one
/// information line with the loader's message. ONNX Runtime's own native error print for the failed attempt is kept
/// quiet by creating its environment at the fatal log level before any session exists, and the warning level is
/// restored after the probe.
/// </summary>
public static partial class ExecutionProviders
{
    private static readonly Lock Gate = new();
    private static ExecutionChoice? s_probed;
    private static bool s_logged;
    private static bool s_loggedForced;

    /// <summary>
    /// The provider to use: the CPU when <paramref name="forceCpu"/>, else CUDA when it loads (probed once per process),
    /// else the CPU with the reason. Logs one information line the first time each answer is given.
    /// </summary>
    public static ExecutionChoice Choose(bool forceCpu = false, ILogger? logger = null)
    {
        lock (Gate)
        {
            if (forceCpu)
            {
                var forced = new ExecutionChoice(ExecutionProvider.Cpu, "forced to the CPU by the option");
                if (!s_loggedForced && logger is not null)
                {
                    s_loggedForced = true;
                    LogChoice(logger, Name(forced.Provider), forced.Reason);
                }

                return forced;
            }

            s_probed ??= Probe();
            if (!s_logged && logger is not null)
            {
                s_logged = true;
                LogChoice(logger, Name(s_probed.Provider), s_probed.Reason);
            }

            return s_probed;
        }
    }

    /// <summary>Session options for <paramref name="choice"/>; the caller disposes them.</summary>
    internal static SessionOptions SessionOptionsFor(ExecutionChoice choice)
    {
        ArgumentNullException.ThrowIfNull(choice);
        EnsureEnvironment();
        var options = new SessionOptions();
        try
        {
            if (choice.Provider == ExecutionProvider.Cuda)
            {
                options.AppendExecutionProvider_CUDA(0);
            }

            return options;
        }
        catch
        {
            options.Dispose();
            throw;
        }
    }

    /// <summary>Creates ONNX Runtime's environment at the warning level unless something created it already.</summary>
    internal static void EnsureEnvironment()
    {
        lock (Gate)
        {
            if (OrtEnv.IsCreated)
            {
                return;
            }

            var options = new EnvironmentCreationOptions { logId = "TwinGateway.Drift", logLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING };
            OrtEnv.CreateInstanceWithOptions(ref options);
        }
    }

    private static ExecutionChoice Probe()
    {
        EnsureEnvironment();
        var env = OrtEnv.Instance();
        var level = env.EnvLogLevel;
        env.EnvLogLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL;
        try
        {
            using var options = new SessionOptions();
            options.AppendExecutionProvider_CUDA(0);
            return new ExecutionChoice(ExecutionProvider.Cuda, "CUDA loaded");
        }
        catch (Exception e) when (e is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException)
        {
            return new ExecutionChoice(ExecutionProvider.Cpu, $"CUDA did not load: {LoaderMessage() ?? e.Message.Trim()}");
        }
        finally
        {
            env.EnvLogLevel = level;
        }
    }

    /// <summary>
    /// ONNX Runtime says only "Failed to load shared library"; loading its CUDA provider library directly gets the
    /// dynamic loader's message, which names the missing dependency (for example <c>libcublasLt.so.13</c>). Null when
    /// the library is not found beside the application or loads after all.
    /// </summary>
    private static string? LoaderMessage()
    {
        var file = OperatingSystem.IsWindows() ? "onnxruntime_providers_cuda.dll" : "libonnxruntime_providers_cuda.so";
        var rid = OperatingSystem.IsWindows() ? "win-x64" : "linux-" + RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant();
        foreach (var path in new[] { Path.Combine(AppContext.BaseDirectory, "runtimes", rid, "native", file), Path.Combine(AppContext.BaseDirectory, file) })
        {
            if (!File.Exists(path))
            {
                continue;
            }

            try
            {
                NativeLibrary.Free(NativeLibrary.Load(path));
                return null;
            }
            catch (DllNotFoundException e)
            {
                // .NET's message wraps the loader's last line ("libcublasLt.so.13: cannot open shared object file: ...").
                var lines = e.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                return $"{file}: {(lines.Length > 0 ? lines[^1] : e.Message)}";
            }
        }

        return null;
    }

    [LoggerMessage(EventId = 7151, Level = LogLevel.Information, Message = "Drift models run on the {Provider} provider: {Reason}")]
    private static partial void LogChoice(ILogger logger, string provider, string reason);

    /// <summary>The provider as people write it: CUDA, CPU.</summary>
    public static string Name(ExecutionProvider provider) => provider.ToString().ToUpperInvariant();
}
