using TwinGateway.Api.V1;
using TwinGateway.Commissioning.Changes;
using TwinGateway.Host.Api;

namespace TwinGateway.Host.Cli;

/// <summary>Reads a change file (YAML) with the definitions it names, as the message the gateway takes.</summary>
internal static class ChangeFiles
{
    /// <summary>The message, or every problem in the file (each with file:line:column and field).</summary>
    public static (ChangeSpec? Spec, IReadOnlyList<string> Problems) Load(string path)
    {
        var result = ChangeRequestLoader.LoadFile(path);
        if (result.Change is not { } change || result.Problems.Length > 0)
        {
            return (null, [.. result.Problems.Select(p => p.ToString())]);
        }

        return (ChangeMapping.ToProto(change), []);
    }
}
