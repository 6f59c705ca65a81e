using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using TwinGateway.Commissioning.Changes;
using TwinGateway.Core;
using TwinGateway.Core.Changes;
using TwinGateway.Core.Lines;
using YamlDotNet.RepresentationModel;

namespace TwinGateway.Commissioning.Policy;

/// <summary>
/// Reads validation policies (<c>config/validation/&lt;line&gt;.yaml</c>, format in <c>config/validation/README.md</c>),
/// reporting every problem at once with file, line, column and field. A learned model may never be the sole authority
/// for a safety-related change: a policy that says so does not load.
/// </summary>
public static class ValidationPolicyLoader
{
    /// <summary>The most seeds a policy may ask for (each is two runs of the horizon).</summary>
    public const int MaxSeeds = 10_000;

    private static readonly string[] TopFields =
        ["line", "horizonHours", "seeds", "stepSeconds", "confidence", "criteria", "credibility", "authority", "verification", "safetySignals", "timeZone", "modelApprovals"];

    private static readonly string[] CriterionKinds = ["throughput", "interlockViolations", "axisLimitViolations", "signalLimit", "bufferFull", "cycleTime"];
    private static readonly string[] ClassNames = ["safety", "process", "other"];
    private static readonly string[] RuleFields = ["requires", "approvals", "safetyApprover", "whileSignal", "windows"];
    private static readonly string[] WindowFields = ["days", "from", "to"];
    private static readonly string[] AuthorityNames = ["physics", "statistical", "human"];

    /// <summary>The policy file of <paramref name="lineId"/> in <paramref name="directory"/> (<c>&lt;line&gt;.yaml</c>).</summary>
    public static string PathFor(string directory, string lineId) => Path.Combine(directory, $"{lineId}.yaml");

    /// <summary>Reads and checks a policy file; a file that cannot be read is a problem, not an exception.</summary>
    /// <param name="path">The file.</param>
    /// <param name="line">When given, criteria naming signals or stations the line lacks are problems too.</param>
    public static ValidationPolicyLoadResult LoadFile(string path, LineDefinition? line = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new ValidationPolicyLoadResult(null, [new FileProblem(path, 1, 1, "", $"cannot read the validation policy: {e.Message}")]);
        }

        return Parse(text, path, line);
    }

    /// <summary>Parses and checks a policy.</summary>
    public static ValidationPolicyLoadResult Parse(string text, string fileName, LineDefinition? line = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(fileName);
        var file = new YamlFile(fileName);
        var policy = Read(file, text, line);
        return new ValidationPolicyLoadResult(file.HasProblems ? null : policy, file.Problems);
    }

    private static ValidationPolicy? Read(YamlFile file, string text, LineDefinition? line)
    {
        if (file.Load(text, "a validation policy (a mapping with line, horizonHours, seeds, criteria, authority, ...)") is not { } root
            || file.Mapping(root, "", "a validation policy", TopFields) is not { } top)
        {
            return null;
        }

        var lineId = top.RequiredText("line");
        if (lineId is not null && line is not null && !string.Equals(lineId, line.Id, StringComparison.Ordinal))
        {
            file.Error(top.Get("line")!, "line", $"the policy is for line '{lineId}', not '{line.Id}'");
        }

        var horizon = Positive(file, top, "horizonHours");
        var seeds = top.Require("seeds") is { } seedNode ? file.Integer(seedNode, "seeds") : null;
        if (seeds is < 2 or > MaxSeeds)
        {
            file.Error(top.Get("seeds")!, "seeds", $"seeds must be from 2 (a confidence interval needs two runs) to {MaxSeeds}, found {seeds}");
            seeds = null;
        }

        var step = Positive(file, top, "stepSeconds");
        if (horizon is { } h && step is { } s && s > h * 3600)
        {
            file.Error(top.Get("stepSeconds")!, "stepSeconds", $"the step ({s} s) is longer than the horizon ({h} h)");
        }

        var confidence = top.Get("confidence") is null ? 0.95 : Confidence(file, top, "confidence");
        var criteria = ReadCriteria(file, top, confidence ?? 0.95, line);
        var credibility = ReadTolerance(file, top, "credibility", "windowMinutes", 60);
        var verification = ReadTolerance(file, top, "verification", "windowSeconds", 1);
        var rules = ReadAuthority(file, top, line);
        var safetySignals = ReadSafetySignals(file, top);
        var timeZone = ReadTimeZone(file, top);
        long modelApprovals = 0;
        if (top.Get("modelApprovals") is { } modelNode)
        {
            modelApprovals = file.Integer(modelNode, "modelApprovals") ?? 0;
            if (modelApprovals is < 0 or > 10)
            {
                file.Error(modelNode, "modelApprovals", $"modelApprovals must be from 0 (an engineer activates a drift model alone) to 10, found {modelApprovals}");
            }
        }

        if (file.HasProblems || lineId is null || horizon is null || seeds is null || step is null || confidence is null
            || credibility is null || verification is null || rules is null)
        {
            return null;
        }

        return new ValidationPolicy
        {
            LineId = lineId,
            Horizon = TimeSpan.FromHours(horizon.Value),
            Seeds = (int)seeds.Value,
            Step = TimeSpan.FromSeconds(step.Value),
            Confidence = confidence.Value,
            Criteria = criteria,
            Credibility = new CredibilityRule(credibility.Value.Window, credibility.Value.Max),
            Verification = new VerificationRule(verification.Value.Window, verification.Value.Max),
            Safety = rules[0],
            Process = rules[1],
            Other = rules[2],
            SafetySignals = safetySignals,
            TimeZone = timeZone,
            ModelApprovals = (int)Math.Clamp(modelApprovals, 0, 10),
            Hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text))),
            Source = file.Location(root),
        };
    }

    private static double? Positive(YamlFile file, YamlFile.Fields fields, string key)
    {
        if (fields.RequiredNumber(key) is not { } value)
        {
            return null;
        }

        if (value > 0)
        {
            return value;
        }

        file.Error(fields.Get(key)!, fields.PathOf(key), $"{key} must be above 0, found {ChangeHash.FormatNumber(value)}");
        return null;
    }

    private static double? NotNegative(YamlFile file, YamlFile.Fields fields, string key)
    {
        if (fields.RequiredNumber(key) is not { } value)
        {
            return null;
        }

        if (value >= 0)
        {
            return value;
        }

        file.Error(fields.Get(key)!, fields.PathOf(key), $"{key} must not be negative, found {ChangeHash.FormatNumber(value)}");
        return null;
    }

    private static double? Confidence(YamlFile file, YamlFile.Fields fields, string key)
    {
        if (fields.RequiredNumber(key) is not { } value)
        {
            return null;
        }

        if (value is > 0.5 and < 1)
        {
            return value;
        }

        file.Error(fields.Get(key)!, fields.PathOf(key), $"{key} is a two-sided confidence level above 0.5 and below 1 (for example 0.95), found {ChangeHash.FormatNumber(value)}");
        return null;
    }

    private static ImmutableArray<Criterion> ReadCriteria(YamlFile file, YamlFile.Fields top, double confidence, LineDefinition? line)
    {
        var criteria = ImmutableArray.CreateBuilder<Criterion>();
        if (top.Require("criteria") is not { } node || file.List(node, "criteria", "the criteria") is not { } list)
        {
            return [];
        }

        if (list.Children.Count == 0)
        {
            file.Error(list, "criteria", "the policy has no criteria: a validation with nothing to check would pass every change");
        }

        for (var i = 0; i < list.Children.Count; i++)
        {
            var path = $"criteria[{i}]";
            var item = list.Children[i];
            if (item is not YamlMappingNode { Children.Count: 1 } mapping || mapping.Children.Keys.Single() is not YamlScalarNode { Value: { } kind } kindNode)
            {
                file.Error(item, path, $"expected one criterion, written as {{ kind: {{ fields }} }} with a kind from {string.Join(", ", CriterionKinds)}, found {YamlFile.Describe(item)}");
                continue;
            }

            var kindPath = $"{path}.{kind}";
            var body = mapping.Children.Values.Single();
            string[] known = kind switch
            {
                "throughput" => ["maxDropPercent", "confidence"],
                "interlockViolations" or "axisLimitViolations" => ["max", "confidence"],
                "signalLimit" => ["signal", "min", "max", "confidence"],
                "bufferFull" => ["station", "maxFraction", "confidence"],
                "cycleTime" => ["station", "max", "confidence"],
                _ => [],
            };
            if (known.Length == 0)
            {
                file.Error(kindNode, kindPath, $"unknown criterion '{kind}' (expected {string.Join(", ", CriterionKinds)})");
                continue;
            }

            if (file.Mapping(body, kindPath, $"the {kind} criterion", known) is not { } fields)
            {
                continue;
            }

            var level = fields.Get("confidence") is null ? confidence : Confidence(file, fields, "confidence");
            var location = file.Location(item);
            Criterion? criterion = kind switch
            {
                "throughput" => NotNegative(file, fields, "maxDropPercent") is { } drop ? new ThroughputCriterion(drop) { Confidence = 0, Source = location } : null,
                "interlockViolations" => Count(file, fields) is { } max ? new InterlockViolationsCriterion(max) { Confidence = 0, Source = location } : null,
                "axisLimitViolations" => Count(file, fields) is { } max ? new AxisLimitViolationsCriterion(max) { Confidence = 0, Source = location } : null,
                "signalLimit" => SignalLimit(file, fields, line, location),
                "bufferFull" => BufferFull(file, fields, line, location),
                _ => CycleTime(file, fields, line, location),
            };
            if (criterion is not null && level is { } l)
            {
                criteria.Add(criterion with { Confidence = l });
            }
        }

        return criteria.ToImmutable();
    }

    private static long? Count(YamlFile file, YamlFile.Fields fields)
    {
        if (fields.Require("max") is not { } node || file.Integer(node, fields.PathOf("max")) is not { } max)
        {
            return null;
        }

        if (max >= 0)
        {
            return max;
        }

        file.Error(node, fields.PathOf("max"), $"max must not be negative, found {max}");
        return null;
    }

    private static SignalLimitCriterion? SignalLimit(YamlFile file, YamlFile.Fields fields, LineDefinition? line, SourceLocation location)
    {
        var signal = fields.RequiredText("signal");
        var min = fields.OptionalNumber("min");
        var max = fields.OptionalNumber("max");
        if (fields.Get("min") is null && fields.Get("max") is null)
        {
            file.Error(fields.Node, fields.Path, "a signalLimit needs min, max or both");
            return null;
        }

        if (min is { } low && max is { } high && low > high)
        {
            file.Error(fields.Get("min")!, fields.PathOf("min"), $"min ({ChangeHash.FormatNumber(low)}) is above max ({ChangeHash.FormatNumber(high)})");
            return null;
        }

        if (signal is not null && line is not null)
        {
            if (line.FindSignal(signal) is not { } definition)
            {
                file.Error(fields.Get("signal")!, fields.PathOf("signal"), $"line '{line.Id}' has no signal '{signal}'");
                return null;
            }

            if (!definition.DataType.IsNumeric() && definition.DataType != SignalDataType.Boolean)
            {
                file.Error(fields.Get("signal")!, fields.PathOf("signal"), $"signal '{signal}' is {definition.DataType}: a limit needs a numeric or Boolean signal");
                return null;
            }
        }

        return signal is null ? null : new SignalLimitCriterion(signal, min, max) { Confidence = 0, Source = location };
    }

    private static BufferFullCriterion? BufferFull(YamlFile file, YamlFile.Fields fields, LineDefinition? line, SourceLocation location)
    {
        var station = Station(file, fields, line, needsCycleTime: false);
        var fraction = NotNegative(file, fields, "maxFraction");
        if (fraction > 1)
        {
            file.Error(fields.Get("maxFraction")!, fields.PathOf("maxFraction"), $"maxFraction is a fraction of the run from 0 to 1, found {ChangeHash.FormatNumber(fraction.Value)}");
            return null;
        }

        return station is null || fraction is null ? null : new BufferFullCriterion(station, fraction.Value) { Confidence = 0, Source = location };
    }

    private static CycleTimeCriterion? CycleTime(YamlFile file, YamlFile.Fields fields, LineDefinition? line, SourceLocation location)
    {
        var station = Station(file, fields, line, needsCycleTime: true);
        var max = Positive(file, fields, "max");
        return station is null || max is null ? null : new CycleTimeCriterion(station, max.Value) { Confidence = 0, Source = location };
    }

    private static string? Station(YamlFile file, YamlFile.Fields fields, LineDefinition? line, bool needsCycleTime)
    {
        if (fields.RequiredText("station") is not { } station)
        {
            return null;
        }

        if (line is null)
        {
            return station;
        }

        if (line.FindStation(station) is not { } definition)
        {
            file.Error(fields.Get("station")!, fields.PathOf("station"), $"line '{line.Id}' has no station '{station}' (it has {string.Join(", ", line.Stations.Select(s => s.Id))})");
            return null;
        }

        if (needsCycleTime && definition.CycleTime is null)
        {
            file.Error(fields.Get("station")!, fields.PathOf("station"), $"station '{station}' is a {definition.Kind.ToString().ToLowerInvariant()} with no cycle time");
            return null;
        }

        return station;
    }

    private static (TimeSpan Window, double Max)? ReadTolerance(YamlFile file, YamlFile.Fields top, string key, string windowKey, double secondsPerUnit)
    {
        if (top.Require(key) is not { } node || file.Mapping(node, key, $"the {key} settings", [windowKey, "maxMeanScaledError"]) is not { } fields)
        {
            return null;
        }

        var window = Positive(file, fields, windowKey);
        var max = Positive(file, fields, "maxMeanScaledError");
        return window is null || max is null ? null : (TimeSpan.FromSeconds(window.Value * secondsPerUnit), max.Value);
    }

    private static AuthorityRule[]? ReadAuthority(YamlFile file, YamlFile.Fields top, LineDefinition? line)
    {
        if (top.Require("authority") is not { } node || file.Mapping(node, "authority", "the authority per class of change", ClassNames) is not { } classes)
        {
            return null;
        }

        var rules = new AuthorityRule?[ClassNames.Length];
        for (var c = 0; c < ClassNames.Length; c++)
        {
            var name = ClassNames[c];
            if (classes.Require(name) is { } ruleNode)
            {
                rules[c] = ReadRule(file, ruleNode, $"authority.{name}", name == "safety", line);
            }
        }

        return rules.All(r => r is not null) ? [.. rules.Select(r => r!)] : null;
    }

    private static AuthorityRule? ReadRule(YamlFile file, YamlNode node, string path, bool safety, LineDefinition? line)
    {
        if (file.Mapping(node, path, "an authority rule", RuleFields) is not { } fields)
        {
            return null;
        }

        var requires = ImmutableArray.CreateBuilder<Authority>();
        var requiresRead = false;
        if (fields.Require("requires") is { } requiresNode && file.List(requiresNode, fields.PathOf("requires"), "the required authorities") is { } list)
        {
            for (var i = 0; i < list.Children.Count; i++)
            {
                var itemPath = $"{fields.PathOf("requires")}[{i}]";
                if (file.Text(list.Children[i], itemPath) is not { } text)
                {
                    continue;
                }

                var index = Array.FindIndex(AuthorityNames, n => string.Equals(n, text, StringComparison.OrdinalIgnoreCase));
                if (index < 0)
                {
                    file.Error(list.Children[i], itemPath, $"unknown authority '{text}' (expected {string.Join(", ", AuthorityNames)})");
                }
                else if (requires.Contains((Authority)(index + 1)))
                {
                    file.Error(list.Children[i], itemPath, $"authority '{text}' is named twice");
                }
                else
                {
                    requires.Add((Authority)(index + 1));
                }
            }

            requiresRead = requires.Count == list.Children.Count;
            if (list.Children.Count == 0)
            {
                file.Error(list, fields.PathOf("requires"), "a rule requires at least one authority");
            }
            else if (safety && requires.Count > 0 && requires.All(a => a == Authority.Statistical))
            {
                file.Error(list, fields.PathOf("requires"),
                    "a learned model (statistical) may never be the sole authority for a safety-related change: add physics or human");
            }
        }

        long approvals = 0;
        if (fields.Get("approvals") is { } approvalsNode)
        {
            approvals = file.Integer(approvalsNode, fields.PathOf("approvals")) ?? 0;
            if (approvals is < 0 or > 100)
            {
                file.Error(approvalsNode, fields.PathOf("approvals"), $"approvals must be from 0 to 100, found {approvals}");
            }
        }

        // Only once requires is read: a misspelt authority would otherwise be reported a second time here.
        if (requiresRead && requires.Contains(Authority.Human) && approvals < 1)
        {
            file.Error(fields.KeyNode("approvals"), fields.PathOf("approvals"), "the rule requires human authority: approvals must be at least 1");
        }
        else if (requiresRead && !requires.Contains(Authority.Human) && approvals > 0)
        {
            file.Error(fields.KeyNode("approvals"), fields.PathOf("approvals"), $"approvals is {approvals} but the rule does not require human authority: add human to requires");
        }

        var safetyApprover = fields.OptionalBoolean("safetyApprover") ?? false;
        if (requiresRead && safetyApprover && !requires.Contains(Authority.Human))
        {
            file.Error(fields.KeyNode("safetyApprover"), fields.PathOf("safetyApprover"), "safetyApprover needs human in requires");
        }

        SignalCondition? whileSignal = null;
        if (fields.Get("whileSignal") is { } whileNode && file.Mapping(whileNode, fields.PathOf("whileSignal"), "a signal condition", ["signal", "equals"]) is { } condition)
        {
            var signal = condition.RequiredText("signal");
            double? value = condition.Require("equals") is { } equalsNode
                ? YamlFile.TryBoolean(equalsNode) is { } flag ? (flag ? 1 : 0) : file.Number(equalsNode, condition.PathOf("equals"))
                : null;
            if (signal is not null && line is not null && line.FindSignal(signal) is null)
            {
                file.Error(condition.Get("signal")!, condition.PathOf("signal"), $"line '{line.Id}' has no signal '{signal}'");
            }

            if (signal is not null && value is not null)
            {
                whileSignal = new SignalCondition(signal, ComparisonOperator.EqualTo, value.Value);
            }
        }

        var windows = ImmutableArray.CreateBuilder<ApplyWindow>();
        if (fields.Get("windows") is { } windowsNode && file.List(windowsNode, fields.PathOf("windows"), "maintenance windows") is { } windowList)
        {
            for (var i = 0; i < windowList.Children.Count; i++)
            {
                if (ReadWindow(file, windowList.Children[i], $"{fields.PathOf("windows")}[{i}]") is { } window)
                {
                    windows.Add(window);
                }
            }
        }

        return new AuthorityRule(requires.ToImmutable(), (int)Math.Clamp(approvals, 0, 100), safetyApprover, whileSignal) { Windows = windows.ToImmutable() };
    }

    private static readonly string[] DayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

    /// <summary><c>{ days: [mon, tue, ...], from: "22:00", to: "06:00" }</c>; without <c>days</c>, every day.</summary>
    private static ApplyWindow? ReadWindow(YamlFile file, YamlNode node, string path)
    {
        if (file.Mapping(node, path, "a maintenance window (days, from, to)", WindowFields) is not { } fields)
        {
            return null;
        }

        var days = ImmutableArray.CreateBuilder<DayOfWeek>();
        if (fields.Get("days") is { } daysNode && file.List(daysNode, fields.PathOf("days"), "days (mon, tue, wed, thu, fri, sat, sun)") is { } list)
        {
            for (var d = 0; d < list.Children.Count; d++)
            {
                if (file.Text(list.Children[d], $"{fields.PathOf("days")}[{d}]") is not { } text)
                {
                    continue;
                }

                // mon or monday (any case).
                var index = Array.FindIndex(DayNames, n => string.Equals(text, n, StringComparison.OrdinalIgnoreCase)
                    || string.Equals(text, Enum.GetName((DayOfWeek)Array.IndexOf(DayNames, n)), StringComparison.OrdinalIgnoreCase));
                if (index < 0)
                {
                    file.Error(list.Children[d], $"{fields.PathOf("days")}[{d}]", $"unknown day '{text}' (expected {string.Join(", ", DayNames)})");
                }
                else if (!days.Contains((DayOfWeek)index))
                {
                    days.Add((DayOfWeek)index);
                }
            }
        }
        else if (fields.Get("days") is null)
        {
            days.AddRange(Enum.GetValues<DayOfWeek>());
        }

        TimeOnly? Time(string key)
        {
            if (fields.RequiredText(key) is not { } text)
            {
                return null;
            }

            if (TimeOnly.TryParseExact(text, ["HH:mm", "H:mm"], System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var time))
            {
                return time;
            }

            file.Error(fields.Get(key)!, fields.PathOf(key), $"'{text}' is not a time of day as HH:mm (for example \"22:00\")");
            return null;
        }

        var from = Time("from");
        var to = Time("to");
        if (from is null || to is null)
        {
            return null;
        }

        if (from == to)
        {
            file.Error(node, path, $"the window starts and ends at {from.Value.ToString("HH:mm", System.Globalization.CultureInfo.InvariantCulture)}: it would be empty (leave windows out to allow any time)");
            return null;
        }

        return days.Count == 0 ? null : new ApplyWindow(days.ToImmutable(), from.Value, to.Value);
    }

    private static TimeZoneInfo ReadTimeZone(YamlFile file, YamlFile.Fields top)
    {
        if (top.OptionalText("timeZone") is not { } id)
        {
            return TimeZoneInfo.Utc;
        }

        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(id);
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            file.Error(top.Get("timeZone")!, "timeZone", $"unknown time zone '{id}' (an IANA id such as Europe/Berlin, or UTC)");
            return TimeZoneInfo.Utc;
        }
    }

    private static SignalPatterns ReadSafetySignals(YamlFile file, YamlFile.Fields top)
    {
        if (top.Get("safetySignals") is not { } node)
        {
            return SignalPatterns.DefaultSafety;
        }

        if (file.List(node, "safetySignals", "signal ids or patterns") is not { } list)
        {
            return SignalPatterns.DefaultSafety;
        }

        var patterns = new List<string>();
        for (var i = 0; i < list.Children.Count; i++)
        {
            if (file.Text(list.Children[i], $"safetySignals[{i}]") is { } pattern)
            {
                patterns.Add(pattern);
            }
        }

        return new SignalPatterns(patterns);
    }
}

/// <summary>The outcome of reading a policy: the policy, or every problem found.</summary>
public sealed record ValidationPolicyLoadResult(ValidationPolicy? Policy, ImmutableArray<FileProblem> Problems)
{
    public bool Succeeded => Problems.IsEmpty && Policy is not null;

    /// <summary>The policy, or an <see cref="InvalidDataException"/> listing every problem, one per line.</summary>
    public ValidationPolicy GetPolicyOrThrow() => Policy ?? throw new InvalidDataException(
        $"{Problems.Length} problem(s) in the validation policy:\n{string.Join('\n', Problems)}");
}
