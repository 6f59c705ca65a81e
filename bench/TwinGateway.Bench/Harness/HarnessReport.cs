using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace TwinGateway.Bench.Harness;

/// <summary>
/// How the harnesses write their results to a file: one file per run, its folder created, JSON and a final newline.
/// The load harnesses (and the validation benchmark) use indented camel-case JSON with nulls left out; <c>audit</c>
/// passes its own serializer options and keeps its format.
/// </summary>
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
    public static Task<string> WriteAsync<T>(string outputPath, T report) => WriteAsync(outputPath, report, s_json);

    /// <summary>Writes <paramref name="report"/> serialized with <paramref name="options"/> to <paramref name="outputPath"/> (creating its folder) and returns the full path.</summary>
    public static async Task<string> WriteAsync<T>(string outputPath, T report, JsonSerializerOptions options)
    {
        var path = Path.GetFullPath(outputPath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(report, options) + "\n", CancellationToken.None).ConfigureAwait(false);
        return path;
    }
}
