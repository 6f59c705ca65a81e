using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace TwinGateway.Bench.Harness;

/// <summary>How every load harness writes its result: indented camel-case JSON, nulls left out, one file per run.</summary>
internal static class HarnessReport
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Writes <paramref name="report"/> to <paramref name="outputPath"/> (creating its folder) and returns the full path.</summary>
    public static async Task<string> WriteAsync<T>(string outputPath, T report)
    {
        var path = Path.GetFullPath(outputPath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(report, s_json) + "\n", CancellationToken.None).ConfigureAwait(false);
        return path;
    }
}
