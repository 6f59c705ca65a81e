using TwinGateway.Commissioning.Validation;

namespace TwinGateway.Commissioning.Tests.Validation;

public sealed class EvidenceJsonTests
{
    private static readonly Lazy<Evidence> Sample = new(() => new ValidationSuite().Run(
        ValidationSuiteTests.Request(ValidationSuiteTests.SetChange("robot2.speedOverride", 100), seeds: 2, horizon: TimeSpan.FromMinutes(30))));

    [Fact]
    public void Evidence_round_trips_through_its_canonical_JSON_with_the_same_bytes_and_hash()
    {
        var evidence = Sample.Value;
        var json = EvidenceJson.WriteString(evidence);

        var back = EvidenceJson.Read(json);

        Assert.Equal(json, EvidenceJson.WriteString(back));
        Assert.Equal(evidence.Hash, back.Hash);
        Assert.Equal(evidence.Seeds.ToArray(), back.Seeds.ToArray());
        Assert.Equal(evidence.Timing, back.Timing);
        Assert.StartsWith($$"""{"format":"twingateway-evidence/1","hash":"{{evidence.Hash}}","body":{"line":"demo-line","changeHash":""", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Timing_is_outside_the_hash_and_everything_else_inside()
    {
        var evidence = Sample.Value;

        Assert.Equal(evidence.Hash, (evidence with { Timing = new ValidationTiming(99, 1, 1, 1) }).Hash);
        Assert.NotEqual(evidence.Hash, (evidence with { Summary = evidence.Summary + "." }).Hash);
        Assert.NotEqual(evidence.Hash, (evidence with { PolicyHash = new string('0', 64) }).Hash);
        Assert.NotEqual(evidence.Hash, (evidence with { Criteria = evidence.Criteria.SetItem(0, evidence.Criteria[0] with { Passed = false }) }).Hash);
        Assert.DoesNotContain("wallSeconds", System.Text.Encoding.UTF8.GetString(EvidenceJson.WriteBody(evidence)), StringComparison.Ordinal);
    }

    [Fact]
    public void Altered_evidence_is_refused_on_reading()
    {
        var json = EvidenceJson.WriteString(Sample.Value);
        var altered = json.Replace("\"verdict\":\"pass\"", "\"verdict\":\"fail\"", StringComparison.Ordinal);
        Assert.NotEqual(json, altered);

        var error = Assert.Throws<InvalidDataException>(() => EvidenceJson.Read(altered));

        Assert.Contains("it was altered", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Non_finite_numbers_are_written_as_strings_and_read_back()
    {
        var evidence = Sample.Value;
        var throughput = evidence.Criteria.Single(c => c.Kind == "throughput");
        Assert.False(double.IsNaN(throughput.RelativeLowPercent));
        var cycle = evidence.Criteria.Single(c => c.Kind == "cycleTime");

        var json = EvidenceJson.WriteString(evidence);
        var back = EvidenceJson.Read(json).Criteria.Single(c => c.Kind == "cycleTime");

        Assert.Contains("\"relativeLowPercent\":\"NaN\"", json, StringComparison.Ordinal);
        Assert.True(double.IsNaN(cycle.RelativeLowPercent) && double.IsNaN(back.RelativeLowPercent));
    }
}
