using System.Globalization;
using System.Text;
using System.Text.Json;

namespace TwinGateway.Interop.Tests.Cli;

/// <summary>
/// <c>twingw drift eval</c> runs the gateway's detector code on data files, offline: here SKAB-shaped files written by
/// the test (three correlated sensors; in the second half of each, one sensor leaves the others by a stated offset).
/// </summary>
public sealed class DriftEvalCliTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("twingw-eval-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData("pca")]
    [InlineData("autoencoder")]
    public async Task Eval_trains_on_each_files_leading_part_scores_the_rest_and_writes_the_report(string model)
    {
        Directory.CreateDirectory(Path.Combine(_folder, "data", "valve1"));
        WriteSkab(Path.Combine(_folder, "data", "valve1", "0.csv"), seed: 1);
        WriteSkab(Path.Combine(_folder, "data", "valve1", "1.csv"), seed: 2);
        WriteSkab(Path.Combine(_folder, "data", "anomaly-free.csv"), seed: 3); // skipped, as SKAB's protocol says
        var report = Path.Combine(_folder, "report.json");

        var run = await TwingwProcess.RunAsync(TimeSpan.FromSeconds(120), "drift", "eval", "--input", Path.Combine(_folder, "data"), "--format", "skab", "--model", model, "--out", report);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("2 file(s); overall F1", run.StdOut, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(report));
        var overall = json.RootElement.GetProperty("overall");
        Assert.InRange(overall.GetProperty("f1").GetDouble(), 0.8, 1.0);
        Assert.InRange(overall.GetProperty("far").GetDouble(), 0.0, 0.1);
        Assert.InRange(overall.GetProperty("mar").GetDouble(), 0.0, 0.3);
        Assert.InRange(overall.GetProperty("nab").GetProperty("standard").GetDouble(), 0, 100);
        Assert.Equal(2, json.RootElement.GetProperty("files").GetArrayLength());
        Assert.Equal(model, json.RootElement.GetProperty("detector").GetProperty("kind").GetString());
    }

    [Fact]
    public async Task Eval_names_the_file_line_and_column_of_a_value_it_cannot_read()
    {
        Directory.CreateDirectory(Path.Combine(_folder, "bad"));
        await File.WriteAllTextAsync(Path.Combine(_folder, "bad", "x.csv"), "datetime;a;b;anomaly;changepoint\n2020-01-01 00:00:00;1;2;0;0\n2020-01-01 00:00:01;1;oops;0;0\n");

        var run = await TwingwProcess.RunAsync(TimeSpan.FromSeconds(60), "drift", "eval", "--input", Path.Combine(_folder, "bad"), "--format", "skab", "--out", Path.Combine(_folder, "r.json"));

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("x.csv", run.StdErr, StringComparison.Ordinal);
        Assert.Contains("oops", run.StdErr, StringComparison.Ordinal);
        var wrongFormat = await TwingwProcess.RunAsync(TimeSpan.FromSeconds(60), "drift", "eval", "--input", _folder, "--format", "parquet");
        Assert.Equal(2, wrongFormat.ExitCode);
        Assert.Contains("--format 'parquet' is not skab, nab or csv", wrongFormat.StdErr, StringComparison.Ordinal);
    }

    /// <summary>1200 rows at 1 s: a latent load drives three sensors; from row 800 on, sensor c reads 2 higher than the load says (about 1.3 of its own spread, 40 of its noise).</summary>
    private static void WriteSkab(string path, int seed)
    {
        var random = new Random(seed);
        var text = new StringBuilder("datetime;a;b;c;anomaly;changepoint\n");
        var start = new DateTime(2020, 3, 9, 10, 0, 0, DateTimeKind.Utc);
        for (var i = 0; i < 1200; i++)
        {
            var load = Math.Sin(i / 30.0) + 0.3 * Math.Sin(i / 7.0);
            double Noise() => 0.1 * (random.NextDouble() + random.NextDouble() + random.NextDouble() - 1.5);
            var anomalous = i >= 800;
            var c = (2 * load) + Noise() + (anomalous ? 2.0 : 0);
            text.Append(CultureInfo.InvariantCulture, $"{start.AddSeconds(i):yyyy-MM-dd HH:mm:ss};{load + Noise():F4};{(-load) + Noise():F4};{c:F4};{(anomalous ? 1 : 0)};{(i == 800 ? 1 : 0)}\n");
        }

        File.WriteAllText(path, text.ToString());
    }
}
