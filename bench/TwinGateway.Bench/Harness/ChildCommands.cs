using System.Diagnostics;
using System.Text;

namespace TwinGateway.Bench.Harness;

/// <summary>The children the harnesses start: node scripts in tests/node and <c>dotnet twingw.dll ...</c>.</summary>
internal static class ChildCommands
{
    /// <summary>
    /// <c>node tests/node/SCRIPT ARGS</c> in tests/node with stdin, stdout and stderr redirected; throws with the install
    /// hint when Node.js or node-opcua is missing.
    /// </summary>
    public static ProcessStartInfo Node(string script, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment)
    {
        var startInfo = Redirected(NodeEnvironment.NodeExecutable, NodeEnvironment.NodeDirectory, input: true);
        startInfo.ArgumentList.Add(NodeEnvironment.Script(script));
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            startInfo.Environment[key] = value;
        }

        return startInfo;
    }

    /// <summary>`node --version`, for the machine facts of a result.</summary>
    public static string NodeVersion()
    {
        using var process = Process.Start(new ProcessStartInfo(NodeEnvironment.NodeExecutable, "--version")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        var version = process.StandardOutput.ReadToEnd().Trim();
        if (!process.WaitForExit(10_000))
        {
            process.Kill(entireProcessTree: true);
        }

        return version;
    }

    /// <summary>Where the Release build of src/TwinGateway.Host puts twingw.dll.</summary>
    public static string DefaultTwingw => Path.Combine(RepositoryPaths.Root, "src", "TwinGateway.Host", "bin", "Release", "net10.0", "twingw.dll");

    /// <summary>
    /// <c>dotnet TWINGW ARGS</c> in the repository root. With <paramref name="measured"/>, inherited DOTNET_GC* settings are
    /// removed: a measured twingw runs with the runtime settings it ships with (twingw.runtimeconfig.json) unless
    /// <paramref name="environment"/> says otherwise.
    /// </summary>
    public static ProcessStartInfo Twingw(string twingwDll, IEnumerable<string> arguments, IReadOnlyList<KeyValuePair<string, string>>? environment = null, bool measured = true)
    {
        var startInfo = Redirected("dotnet", RepositoryPaths.Root, input: measured);
        startInfo.ArgumentList.Add(twingwDll);
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        if (measured)
        {
            foreach (var inherited in startInfo.Environment.Keys.Where(k => k.StartsWith("DOTNET_GC", StringComparison.OrdinalIgnoreCase)).ToList())
            {
                startInfo.Environment.Remove(inherited);
            }
        }

        foreach (var (key, value) in environment ?? [])
        {
            startInfo.Environment[key] = value;
        }

        return startInfo;
    }

    /// <summary>The command line of <see cref="Twingw"/> for the record, the dll relative to the repository.</summary>
    public static string TwingwCommandLine(string twingwDll, IEnumerable<string> arguments, IReadOnlyList<KeyValuePair<string, string>> environment) =>
        string.Concat(environment.Select(kv => kv.Key + "=" + kv.Value + " ")) + "dotnet " +
        string.Join(' ', new[] { Path.GetRelativePath(RepositoryPaths.Root, twingwDll) }.Concat(arguments));

    /// <summary>Runs <c>dotnet TWINGW ARGS</c> to completion (the <c>twingw lines</c> client); killed after <paramref name="timeout"/>.</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunTwingwAsync(string twingwDll, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellationToken) =>
        ChildProcess.RunToEndAsync(Twingw(twingwDll, arguments, measured: false), timeout, cancellationToken);

    /// <summary>
    /// The twingw.dll a harness runs: <paramref name="given"/> (<c>--twingw</c>), the existing Release build
    /// (<c>--no-build</c>), or a fresh Release build of src/TwinGateway.Host.
    /// </summary>
    public static async Task<string> TwingwAsync(string harness, string? given, bool noBuild, CancellationToken cancellationToken)
    {
        if (given is not null)
        {
            return given;
        }

        if (noBuild)
        {
            var dll = DefaultTwingw;
            return File.Exists(dll) ? dll : throw new InvalidOperationException($"--no-build but {dll} does not exist");
        }

        Console.Error.WriteLine($"{harness}: building src/TwinGateway.Host (Release)");
        var clock = Stopwatch.StartNew();
        var built = await BuildTwingwAsync(cancellationToken).ConfigureAwait(false);
        Console.Error.WriteLine($"{harness}: built {built} in {clock.Elapsed.TotalSeconds:0} s");
        return built;
    }

    /// <summary>Builds src/TwinGateway.Host in Release and returns its twingw.dll.</summary>
    public static async Task<string> BuildTwingwAsync(CancellationToken cancellationToken)
    {
        var project = Path.Combine(RepositoryPaths.Root, "src", "TwinGateway.Host", "TwinGateway.Host.csproj");
        var startInfo = Redirected("dotnet", RepositoryPaths.Root, input: false);
        foreach (var argument in new[] { "build", project, "-c", "Release", "-nologo", "-v", "q" })
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException("could not start dotnet build");
        var output = new LineTail(60);
        var pumps = Task.WhenAll(ChildProcess.PumpLinesAsync(process.StandardOutput, output.Add), ChildProcess.PumpLinesAsync(process.StandardError, output.Add));
        try
        {
            await process.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromMinutes(10), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await ChildProcess.KillAsync(process).ConfigureAwait(false);
        }

        await pumps.ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet build {project} -c Release failed ({process.ExitCode}):\n{output}");
        }

        var dll = DefaultTwingw;
        return File.Exists(dll) ? dll : throw new InvalidOperationException($"the build succeeded but {dll} does not exist");
    }

    private static ProcessStartInfo Redirected(string fileName, string workingDirectory, bool input) => new(fileName)
    {
        WorkingDirectory = workingDirectory,
        UseShellExecute = false,
        RedirectStandardInput = input,
        RedirectStandardOutput = true,
        RedirectStandardError = true,
        StandardOutputEncoding = Encoding.UTF8,
        StandardErrorEncoding = Encoding.UTF8,
    };
}
