using System.Collections.Immutable;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TwinGateway.Core;
using TwinGateway.Core.Changes;

namespace TwinGateway.Commissioning.Validation;

/// <summary>
/// The canonical JSON of <see cref="Evidence"/>, written with <see cref="Utf8JsonWriter"/> in a fixed field order and
/// no indentation: <c>{"format":..,"hash":..,"body":{..},"timing":{..}}</c>. The evidence hash is SHA-256 of the
/// body's bytes exactly as written here (<see cref="WriteBody"/>); timing stays outside the body so that reproducing a
/// validation reproduces its hash.
/// </summary>
/// <remarks>
/// Numbers are written in their shortest round-trip form (reading and writing again gives the same bytes); NaN and the
/// infinities, which JSON lacks, as the strings <c>"NaN"</c>, <c>"Infinity"</c>, <c>"-Infinity"</c>. Seeds are 64-bit
/// unsigned and written as decimal strings, which every JSON reader keeps exact. Times are ISO 8601 round-trip (<c>"O"</c>).
/// </remarks>
public static class EvidenceJson
{
    /// <summary>The full canonical document.</summary>
    public static byte[] Write(Evidence evidence)
    {
        ArgumentNullException.ThrowIfNull(evidence);
        var body = WriteBody(evidence);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("format", Evidence.FormatVersion);
            writer.WriteString("hash", Hash(body));
            writer.WritePropertyName("body");
            writer.WriteRawValue(body, skipInputValidation: true);
            writer.WriteStartObject("timing");
            Number(writer, "wallSeconds", evidence.Timing.WallSeconds);
            writer.WriteNumber("cores", evidence.Timing.Cores);
            Number(writer, "simulatedSeconds", evidence.Timing.SimulatedSeconds);
            Number(writer, "realTimeFactorPerCore", evidence.Timing.RealTimeFactorPerCore);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    public static string WriteString(Evidence evidence) => Encoding.UTF8.GetString(Write(evidence));

    /// <summary>SHA-256 (lower-case hex) of <see cref="WriteBody"/>.</summary>
    public static string ComputeHash(Evidence evidence) => Hash(WriteBody(evidence));

    /// <summary>The hashed part: everything but the timing.</summary>
    public static byte[] WriteBody(Evidence evidence)
    {
        ArgumentNullException.ThrowIfNull(evidence);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("line", evidence.LineId);
            writer.WriteString("changeHash", evidence.ChangeHash);
            writer.WriteString("policyHash", evidence.PolicyHash);
            writer.WriteString("lineDefinitionHash", evidence.LineDefinitionHash);
            writer.WriteString("changeClass", evidence.ChangeClass.ToString().ToLowerInvariant());
            writer.WriteStartObject("snapshot");
            writer.WriteString("simTime", evidence.Snapshot.SimTime.ToString("O", CultureInfo.InvariantCulture));
            writer.WriteNumber("steps", evidence.Snapshot.Steps);
            writer.WriteString("seed", evidence.Snapshot.Seed.ToString(CultureInfo.InvariantCulture));
            writer.WriteEndObject();
            writer.WriteString("baseSeed", evidence.BaseSeed.ToString(CultureInfo.InvariantCulture));
            writer.WriteStartArray("seeds");
            foreach (var seed in evidence.Seeds)
            {
                writer.WriteStringValue(seed.ToString(CultureInfo.InvariantCulture));
            }

            writer.WriteEndArray();
            Number(writer, "horizonSeconds", evidence.HorizonSeconds);
            Number(writer, "stepSeconds", evidence.StepSeconds);
            writer.WriteNumber("stepsPerRun", evidence.StepsPerRun);
            writer.WriteStartArray("criteria");
            foreach (var c in evidence.Criteria)
            {
                WriteCriterion(writer, c);
            }

            writer.WriteEndArray();
            var credibility = evidence.Credibility;
            writer.WriteStartObject("credibility");
            Number(writer, "maxMeanScaledError", credibility.MaxMeanScaledError);
            Number(writer, "windowSeconds", credibility.WindowSeconds);
            writer.WriteBoolean("credible", credibility.Credible);
            writer.WriteString("explanation", credibility.Explanation);
            writer.WriteStartArray("signals");
            foreach (var s in credibility.Signals)
            {
                writer.WriteStartObject();
                writer.WriteString("signal", s.SignalId);
                writer.WriteNumber("samples", s.Samples);
                NullableNumber(writer, "meanScaledError", s.MeanScaledError);
                NullableNumber(writer, "maxScaledError", s.MaxScaledError);
                writer.WriteBoolean("credible", s.Credible);
                writer.WriteString("reason", s.Reason);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.WriteString("verdict", VerdictText(evidence.Verdict));
            writer.WriteString("summary", evidence.Summary);
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>The verdict as the API and the CLI show it: <c>pass</c>, <c>fail</c>, <c>not-credible</c>.</summary>
    public static string VerdictText(ValidationVerdict verdict) => verdict switch
    {
        ValidationVerdict.Pass => "pass",
        ValidationVerdict.Fail => "fail",
        ValidationVerdict.NotCredible => "not-credible",
        _ => throw new ArgumentOutOfRangeException(nameof(verdict), verdict, "unknown verdict"),
    };

    /// <summary>Reads a canonical document back and checks its hash.</summary>
    /// <exception cref="InvalidDataException">The body does not hash to the recorded hash (the evidence was altered), or a field is missing or malformed.</exception>
    public static Evidence Read(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (Text(root, "format") != Evidence.FormatVersion)
            {
                throw new InvalidDataException($"format: expected '{Evidence.FormatVersion}', found '{Text(root, "format")}'");
            }

            var evidence = ReadBody(Get(root, "body"), Get(root, "timing"));
            var recorded = Text(root, "hash");
            var actual = evidence.Hash;
            return string.Equals(recorded, actual, StringComparison.Ordinal)
                ? evidence
                : throw new InvalidDataException($"the evidence body hashes to {actual}, not to the recorded {recorded}: it was altered");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or KeyNotFoundException)
        {
            throw new InvalidDataException($"not canonical evidence: {e.Message}", e);
        }
    }

    private static Evidence ReadBody(JsonElement body, JsonElement timing)
    {
        var snapshot = Get(body, "snapshot");
        var credibility = Get(body, "credibility");
        return new Evidence
        {
            LineId = Text(body, "line"),
            ChangeHash = Text(body, "changeHash"),
            PolicyHash = Text(body, "policyHash"),
            LineDefinitionHash = Text(body, "lineDefinitionHash"),
            ChangeClass = Enum.Parse<ChangeClass>(Text(body, "changeClass"), ignoreCase: true),
            Snapshot = new TwinSnapshotIdentity(
                DateTime.Parse(Text(snapshot, "simTime"), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
                Get(snapshot, "steps").GetInt64(),
                ulong.Parse(Text(snapshot, "seed"), CultureInfo.InvariantCulture)),
            BaseSeed = ulong.Parse(Text(body, "baseSeed"), CultureInfo.InvariantCulture),
            Seeds = [.. Get(body, "seeds").EnumerateArray().Select(s => ulong.Parse(s.GetString()!, CultureInfo.InvariantCulture))],
            HorizonSeconds = Num(body, "horizonSeconds"),
            StepSeconds = Num(body, "stepSeconds"),
            StepsPerRun = Get(body, "stepsPerRun").GetInt64(),
            Criteria = [.. Get(body, "criteria").EnumerateArray().Select(ReadCriterion)],
            Credibility = new CredibilityAssessment(
                Num(credibility, "maxMeanScaledError"),
                Num(credibility, "windowSeconds"),
                Get(credibility, "credible").GetBoolean(),
                Text(credibility, "explanation"),
                [.. Get(credibility, "signals").EnumerateArray().Select(s => new SignalCredibilityResult(
                    Text(s, "signal"), Get(s, "samples").GetInt64(), NullableNum(s, "meanScaledError"), NullableNum(s, "maxScaledError"),
                    Get(s, "credible").GetBoolean(), Text(s, "reason")))]),
            Verdict = Text(body, "verdict") switch
            {
                "pass" => ValidationVerdict.Pass,
                "fail" => ValidationVerdict.Fail,
                "not-credible" => ValidationVerdict.NotCredible,
                var other => throw new InvalidDataException($"verdict: unknown '{other}'"),
            },
            Summary = Text(body, "summary"),
            Timing = new ValidationTiming(Num(timing, "wallSeconds"), Get(timing, "cores").GetInt32(), Num(timing, "simulatedSeconds"), Num(timing, "realTimeFactorPerCore")),
        };
    }

    private static void WriteCriterion(Utf8JsonWriter writer, CriterionResult c)
    {
        writer.WriteStartObject();
        writer.WriteNumber("index", c.Index);
        writer.WriteString("kind", c.Kind);
        writer.WriteString("subject", c.Subject);
        writer.WriteString("measure", c.Measure);
        writer.WriteString("authority", c.Authority.ToString().ToLowerInvariant());
        Number(writer, "limit", c.Limit);
        writer.WriteString("rule", c.Rule);
        Number(writer, "confidence", c.Confidence);
        Number(writer, "baselineMean", c.BaselineMean);
        Number(writer, "candidateMean", c.CandidateMean);
        Number(writer, "differenceMean", c.DifferenceMean);
        Number(writer, "differenceLow", c.DifferenceLow);
        Number(writer, "differenceHigh", c.DifferenceHigh);
        Number(writer, "relativeLowPercent", c.RelativeLowPercent);
        Number(writer, "relativeHighPercent", c.RelativeHighPercent);
        Number(writer, "candidateLow", c.CandidateLow);
        Number(writer, "candidateHigh", c.CandidateHigh);
        writer.WriteBoolean("passed", c.Passed);
        writer.WriteString("explanation", c.Explanation);
        writer.WriteStartArray("baseline");
        foreach (var v in c.Baseline)
        {
            Value(writer, v);
        }

        writer.WriteEndArray();
        writer.WriteStartArray("candidate");
        foreach (var v in c.Candidate)
        {
            Value(writer, v);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static CriterionResult ReadCriterion(JsonElement c) => new()
    {
        Index = Get(c, "index").GetInt32(),
        Kind = Text(c, "kind"),
        Subject = Text(c, "subject"),
        Measure = Text(c, "measure"),
        Authority = Enum.Parse<Authority>(Text(c, "authority"), ignoreCase: true),
        Limit = Num(c, "limit"),
        Rule = Text(c, "rule"),
        Confidence = Num(c, "confidence"),
        BaselineMean = Num(c, "baselineMean"),
        CandidateMean = Num(c, "candidateMean"),
        DifferenceMean = Num(c, "differenceMean"),
        DifferenceLow = Num(c, "differenceLow"),
        DifferenceHigh = Num(c, "differenceHigh"),
        RelativeLowPercent = Num(c, "relativeLowPercent"),
        RelativeHighPercent = Num(c, "relativeHighPercent"),
        CandidateLow = Num(c, "candidateLow"),
        CandidateHigh = Num(c, "candidateHigh"),
        Passed = Get(c, "passed").GetBoolean(),
        Explanation = Text(c, "explanation"),
        Baseline = [.. Get(c, "baseline").EnumerateArray().Select(ToDouble)],
        Candidate = [.. Get(c, "candidate").EnumerateArray().Select(ToDouble)],
    };

    private static string Hash(byte[] body) => Convert.ToHexStringLower(SHA256.HashData(body));

    private static void Number(Utf8JsonWriter writer, string name, double value)
    {
        writer.WritePropertyName(name);
        Value(writer, value);
    }

    private static void NullableNumber(Utf8JsonWriter writer, string name, double? value)
    {
        if (value is { } v)
        {
            Number(writer, name, v);
        }
        else
        {
            writer.WriteNull(name);
        }
    }

    private static void Value(Utf8JsonWriter writer, double value)
    {
        if (double.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteStringValue(double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
        }
    }

    private static JsonElement Get(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) ? value : throw new KeyNotFoundException($"field '{name}' is missing");

    private static string Text(JsonElement element, string name) =>
        Get(element, name).GetString() ?? throw new InvalidDataException($"field '{name}' is null");

    private static double Num(JsonElement element, string name) => ToDouble(Get(element, name));

    private static double? NullableNum(JsonElement element, string name) =>
        Get(element, name) is { ValueKind: JsonValueKind.Null } ? null : Num(element, name);

    private static double ToDouble(JsonElement value) => value.ValueKind == JsonValueKind.String
        ? value.GetString() switch
        {
            "NaN" => double.NaN,
            "Infinity" => double.PositiveInfinity,
            "-Infinity" => double.NegativeInfinity,
            var other => throw new InvalidDataException($"'{other}' is not a number"),
        }
        : value.GetDouble();
}
