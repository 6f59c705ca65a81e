namespace TwinGateway.Drift.Tests.Alerts;

/// <summary>A folder of its own for one test, deleted with everything in it when the test ends.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "twingw-drift-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>The record file the gateway shares between stores.</summary>
    public string Database => System.IO.Path.Combine(Path, "changes.db");

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A file still open on a failing test; the temp folder is cleaned by the system.
        }
    }
}
