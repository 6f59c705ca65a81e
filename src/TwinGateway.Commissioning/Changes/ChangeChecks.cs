using System.Collections.Immutable;
using System.Globalization;
using TwinGateway.Core.Changes;
using TwinGateway.Core.Lines;

namespace TwinGateway.Commissioning.Changes;

/// <summary>
/// The checks a change passes at submission, against the line's current definition, before anything runs: every
/// problem at once, each naming the operation (index, kind, location) and field. Also the change's class, with the
/// operations that made it so.
/// </summary>
public static class ChangeChecks
{
    /// <summary>Checks <paramref name="change"/> against <paramref name="line"/> (null: the gateway runs no such line).</summary>
    /// <param name="change">The change as loaded.</param>
    /// <param name="line">The definition the line runs now; null when the line is unknown.</param>
    /// <param name="safetySignals">What counts as an emergency stop (the policy's <c>safetySignals</c>); null: <see cref="SignalPatterns.DefaultSafety"/>.</param>
    public static ChangeCheckResult Check(ChangeRequest change, LineDefinition? line, SignalPatterns? safetySignals = null)
    {
        ArgumentNullException.ThrowIfNull(change);
        safetySignals ??= SignalPatterns.DefaultSafety;
        var problems = new List<ChangeProblem>();
        void ChangeProblem(string field, string message) => problems.Add(new ChangeProblem(-1, null, change.Source, field, message));

        if (string.IsNullOrWhiteSpace(change.Title))
        {
            ChangeProblem("title", "the title is empty: say in a few words what the change does");
        }

        if (string.IsNullOrWhiteSpace(change.Reason))
        {
            ChangeProblem("reason", "the reason is empty: say why the line needs the change (approvers read it)");
        }

        var operations = change.Operations.IsDefault ? [] : change.Operations;
        if (operations.IsEmpty)
        {
            ChangeProblem("operations", "the change has no operations");
        }

        if (line is null || !string.Equals(line.Id, change.LineId, StringComparison.Ordinal))
        {
            ChangeProblem("line", line is null
                ? $"unknown line '{change.LineId}': the gateway runs no line with this id"
                : $"unknown line '{change.LineId}': checked against line '{line.Id}'");
            return new ChangeCheckResult([.. problems], Classify(change, null, safetySignals));
        }

        var definitions = operations.Select((op, i) => (op, i)).Where(x => x.op is DefinitionOperation).ToList();
        if (definitions.Count > 1)
        {
            foreach (var (op, i) in definitions.Skip(1))
            {
                problems.Add(new ChangeProblem(i, op.Kind, op.Source, "definition",
                    $"a change holds at most one definition (operation {definitions[0].i} has one already); merge them into one file"));
            }
        }

        // Poses apply to the robots of the definition the change brings, if it brings one.
        var target = definitions.Select(d => ((DefinitionOperation)d.op).Definition).FirstOrDefault(d => d is not null) ?? line;
        for (var i = 0; i < operations.Length; i++)
        {
            var operation = operations[i];
            void Problem(string field, string message) => problems.Add(new ChangeProblem(i, operation.Kind, operation.Source, field, message));
            switch (operation)
            {
                case SetOperation set:
                    CheckSet(set, line, Problem);
                    break;
                case CallOperation call:
                    CheckCall(call, line, Problem);
                    break;
                case PoseOperation pose:
                    CheckPose(pose, target, Problem);
                    break;
                case DefinitionOperation definition:
                    CheckDefinition(definition, change.LineId, line, Problem);
                    break;
                default:
                    Problem("", $"unknown operation kind '{operation.Kind}'");
                    break;
            }
        }

        return new ChangeCheckResult([.. problems], Classify(change, line, safetySignals));
    }

    /// <summary>
    /// The change's class and why: safety when an operation touches an interlock (a set of a signal an interlock reads,
    /// a definition whose interlocks differ), an emergency stop (a signal matching <paramref name="safetySignals"/>), or a
    /// robot's positions or zones (a pose; a definition whose robots differ); process for setpoints, recipes and cycle
    /// times (other sets; definitions whose stations, topology or signal models differ); other for the rest (method
    /// calls, names and descriptions).
    /// </summary>
    public static ChangeClassification Classify(ChangeRequest change, LineDefinition? line, SignalPatterns? safetySignals = null)
    {
        ArgumentNullException.ThrowIfNull(change);
        safetySignals ??= SignalPatterns.DefaultSafety;
        var reasons = new List<ClassReason>();
        var operations = change.Operations.IsDefault ? [] : change.Operations;
        for (var i = 0; i < operations.Length; i++)
        {
            var operation = operations[i];
            void Reason(ChangeClass cls, string why) => reasons.Add(new ClassReason(i, operation.Kind, operation.Source, cls, why));
            switch (operation)
            {
                case SetOperation set:
                    var interlocks = line?.Interlocks.Where(k => k.When.Signals.Concat(k.Forbid.Signals).Contains(set.SignalId, StringComparer.Ordinal))
                        .Select(k => k.Id).ToList() ?? [];
                    if (safetySignals.Match(set.SignalId) is { } pattern)
                    {
                        Reason(ChangeClass.Safety, $"sets '{set.SignalId}', an emergency-stop signal (safetySignals pattern '{pattern}')");
                    }
                    else if (interlocks.Count > 0)
                    {
                        Reason(ChangeClass.Safety, $"sets '{set.SignalId}', which interlock {string.Join(", ", interlocks.Select(k => $"'{k}'"))} reads");
                    }
                    else
                    {
                        Reason(ChangeClass.Process, $"sets the setpoint '{set.SignalId}'");
                    }

                    break;
                case CallOperation call:
                    Reason(ChangeClass.Other, $"calls method '{call.MethodId}'");
                    break;
                case PoseOperation pose:
                    Reason(ChangeClass.Safety, $"moves robot position '{pose.RobotId}.{pose.Position}'");
                    break;
                case DefinitionOperation { Definition: { } candidate } when line is not null:
                    ClassifyDefinition(line, candidate, safetySignals, Reason);
                    break;
                case DefinitionOperation definition:
                    // Not loaded or nothing to compare with: treat it as the most demanding until it can be compared.
                    Reason(ChangeClass.Safety, $"brings definition '{definition.Path}', which could not be compared with the running line");
                    break;
                default:
                    Reason(ChangeClass.Other, $"operation kind '{operation.Kind}'");
                    break;
            }
        }

        var cls = reasons.Count == 0 ? ChangeClass.Other : reasons.Max(r => r.Class);
        return new ChangeClassification(cls, [.. reasons]);
    }

    private static void ClassifyDefinition(LineDefinition line, LineDefinition candidate, SignalPatterns safetySignals, Action<ChangeClass, string> reason)
    {
        var before = reason;
        var any = false;
        void Add(ChangeClass cls, string why)
        {
            any = true;
            before(cls, why);
        }

        if (LineDefinitionDiff.ChangedInterlocks(line, candidate) is { Count: > 0 } interlocks)
        {
            Add(ChangeClass.Safety, $"changes interlock(s) {Quote(interlocks)}");
        }

        if (LineDefinitionDiff.ChangedRobots(line, candidate) is { Count: > 0 } robots)
        {
            Add(ChangeClass.Safety, $"changes robot(s) {Quote(robots)} (axes, positions or programs)");
        }

        var models = LineDefinitionDiff.ChangedModels(line, candidate);
        if (models.Where(id => safetySignals.Match(id) is not null).ToList() is { Count: > 0 } stops)
        {
            Add(ChangeClass.Safety, $"changes the model of emergency-stop signal(s) {Quote(stops)}");
        }

        if (LineDefinitionDiff.ChangedStations(line, candidate) is { Count: > 0 } stations)
        {
            Add(ChangeClass.Process, $"changes station(s) {Quote(stations)} (cycle times, capacities, failures)");
        }

        if (LineDefinitionDiff.TopologyDiffers(line, candidate))
        {
            Add(ChangeClass.Process, "changes the part flow (topology)");
        }

        if (models.Count > 0)
        {
            Add(ChangeClass.Process, $"changes the model of signal(s) {Quote(models)}");
        }

        if (!any)
        {
            Add(ChangeClass.Other, "changes the definition's names or descriptions only");
        }
    }

    private static string Quote(IEnumerable<string> ids) => string.Join(", ", ids.Select(id => $"'{id}'"));

    private static void CheckSet(SetOperation set, LineDefinition line, Action<string, string> problem)
    {
        if (line.FindSignal(set.SignalId) is not { } signal)
        {
            var close = line.Signals.Select(s => s.Id).FirstOrDefault(id => string.Equals(id, set.SignalId, StringComparison.OrdinalIgnoreCase));
            problem("set", $"unknown signal '{set.SignalId}' on line '{line.Id}'{(close is null ? "" : $" (did you mean '{close}'?)")}");
            return;
        }

        if (signal.Direction != SignalDirection.ControllerInput)
        {
            problem("set", $"signal '{signal.Id}' is not writable: it is a controllerOutput (the controller produces it); only controllerInput signals are set");
        }

        if (ValueProblem(signal, set.Value) is { } wrong)
        {
            problem("value", wrong);
        }
    }

    /// <summary>Why <paramref name="value"/> does not fit <paramref name="signal"/>'s data type or nominal range; null when it does.</summary>
    internal static string? ValueProblem(SignalDefinition signal, ChangeValue value)
    {
        var type = signal.DataType;
        if (type == SignalDataType.Boolean)
        {
            return value.Kind == ChangeValueKind.Boolean ? null : $"signal '{signal.Id}' is Boolean: expected true or false, found {Describe(value)}";
        }

        if (type == SignalDataType.String)
        {
            return value.Kind == ChangeValueKind.Text ? null : $"signal '{signal.Id}' is a String: expected a text (quote it), found {Describe(value)}";
        }

        if (type == SignalDataType.DateTime)
        {
            return value.Kind == ChangeValueKind.Text && DateTime.TryParse(value.Text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out _)
                ? null
                : $"signal '{signal.Id}' is a DateTime: expected an ISO 8601 time as text, found {Describe(value)}";
        }

        if (value.Kind != ChangeValueKind.Number)
        {
            return $"signal '{signal.Id}' is {type}: expected a number, found {Describe(value)}";
        }

        var number = value.Number;
        if (type.IsInteger())
        {
            if (Math.Floor(number) != number)
            {
                return $"signal '{signal.Id}' is {type}: expected a whole number, found {ChangeHash.FormatNumber(number)}";
            }

            var (low, high) = type.IntegerRange();
            if (number < low || number > high)
            {
                return $"signal '{signal.Id}' is {type}: {ChangeHash.FormatNumber(number)} is outside the type's range {ChangeHash.FormatNumber(low)} to {ChangeHash.FormatNumber(high)}";
            }
        }
        else if (type == SignalDataType.Float && Math.Abs(number) > float.MaxValue)
        {
            return $"signal '{signal.Id}' is Float: {ChangeHash.FormatNumber(number)} is outside the type's range";
        }

        if (signal.NominalRange is { } range && !range.Contains(number))
        {
            return $"{ChangeHash.FormatNumber(number)} is outside signal '{signal.Id}''s nominal range {ChangeHash.FormatNumber(range.Low)} to {ChangeHash.FormatNumber(range.High)}{(signal.Unit.Length == 0 ? "" : " " + signal.Unit)}";
        }

        return null;
    }

    private static string Describe(ChangeValue value) => value.Kind switch
    {
        ChangeValueKind.Number => $"the number {value}",
        ChangeValueKind.Boolean => $"the Boolean {value}",
        ChangeValueKind.Text => $"the text '{value}'",
        _ => $"the list {value}",
    };

    private static void CheckCall(CallOperation call, LineDefinition line, Action<string, string> problem)
    {
        if (call.ControllerId is { } controller)
        {
            if (line.FindController(controller) is null)
            {
                problem("controller", $"unknown controller '{controller}' (line '{line.Id}' has {Quote(line.Controllers.Select(c => c.Id))})");
            }
        }
        else if (line.Controllers.Length > 1)
        {
            problem("controller", $"line '{line.Id}' has {line.Controllers.Length} controllers: name the one to call ({Quote(line.Controllers.Select(c => c.Id))})");
        }

        if (string.IsNullOrWhiteSpace(call.MethodId))
        {
            problem("call", "the method node id is empty");
        }

        if (string.IsNullOrWhiteSpace(call.ObjectId))
        {
            problem("object", "the object node id is empty");
        }
    }

    private static void CheckPose(PoseOperation pose, LineDefinition line, Action<string, string> problem)
    {
        if (line.FindRobot(pose.RobotId) is not { } robot)
        {
            problem("pose", $"unknown robot '{pose.RobotId}' (line '{line.Id}' has {Quote(line.Robots.Select(r => r.Id))})");
            return;
        }

        if (!robot.Positions.Any(p => string.Equals(p.Name, pose.Position, StringComparison.Ordinal)))
        {
            problem("pose", $"robot '{robot.Id}' has no position '{pose.Position}' (it has {Quote(robot.Positions.Select(p => p.Name))})");
        }

        if (robot.Positions.FirstOrDefault(p => p.Name == pose.Position) is { NodeId: null })
        {
            problem("pose", $"robot '{robot.Id}' position '{pose.Position}' has no nodeId in the line definition: the gate cannot write it to the controller");
        }

        if (pose.Joints.Length != robot.Axes.Length)
        {
            problem("joints", $"robot '{robot.Id}' has {robot.Axes.Length} axes ({string.Join(", ", robot.Axes.Select(a => a.Name))}); found {pose.Joints.Length} joint values");
            return;
        }

        for (var a = 0; a < robot.Axes.Length; a++)
        {
            var axis = robot.Axes[a];
            var joint = pose.Joints[a];
            if (joint < axis.Min || joint > axis.Max)
            {
                problem($"joints[{a}]", $"{ChangeHash.FormatNumber(joint)} is outside axis {axis.Name}'s limits {ChangeHash.FormatNumber(axis.Min)} to {ChangeHash.FormatNumber(axis.Max)} {axis.Unit}");
            }
        }
    }

    private static void CheckDefinition(DefinitionOperation operation, string lineId, LineDefinition line, Action<string, string> problem)
    {
        if (operation.Definition is not { } candidate)
        {
            var errors = LineDefinitionLoader.Parse(operation.Text, operation.Path).Errors;
            if (errors.IsEmpty)
            {
                problem("definition", $"the definition '{operation.Path}' was not loaded");
            }

            foreach (var error in errors)
            {
                problem("definition", $"the definition does not load: {error}");
            }

            return;
        }

        if (!string.Equals(candidate.Id, lineId, StringComparison.Ordinal))
        {
            problem("definition", $"the definition '{operation.Path}' is for line '{candidate.Id}', not '{lineId}'");
        }

        var differences = LineDefinitionDiff.SignalDifferences(line, candidate);
        if (differences.Count > 0)
        {
            const int Shown = 5;
            var shown = string.Join("; ", differences.Take(Shown)) + (differences.Count > Shown ? $"; and {differences.Count - Shown} more" : "");
            problem("definition", $"the definition's signals differ from the running line's ({shown}): the gateway monitors those nodes, so adding, removing or remapping signals needs the line file (config/lines/{line.Id}.yaml) changed and the gateway restarted, not a change");
        }
    }
}

/// <summary>
/// A problem a static check found: the operation (index in <see cref="ChangeRequest.Operations"/>, -1 for the change
/// as a whole), its kind and location, the field and what is wrong.
/// </summary>
public sealed record ChangeProblem(int OperationIndex, string? OperationKind, SourceLocation? Location, string Field, string Message)
{
    /// <summary><c>file:line:column: operations[1] (set).value: message</c>.</summary>
    public override string ToString()
    {
        var where = Location is { } location ? $"{location}: " : "";
        var what = OperationIndex < 0 ? Field : $"operations[{OperationIndex}] ({OperationKind}){(Field.Length == 0 ? "" : "." + Field)}";
        return $"{where}{what}: {Message}";
    }
}

/// <summary>Why an operation puts the change in a class.</summary>
public sealed record ClassReason(int OperationIndex, string OperationKind, SourceLocation? Location, ChangeClass Class, string Reason)
{
    public override string ToString() => $"operations[{OperationIndex}] ({OperationKind}): {Class.ToString().ToLowerInvariant()}: {Reason}";
}

/// <summary>A change's class (its most demanding operation's) and every operation's reason.</summary>
public sealed record ChangeClassification(ChangeClass Class, ImmutableArray<ClassReason> Reasons)
{
    /// <summary>The reasons that gave the change its class.</summary>
    public IEnumerable<ClassReason> Deciding => Reasons.Where(r => r.Class == Class);
}

/// <summary>The outcome of <see cref="ChangeChecks.Check"/>: every problem, and the class.</summary>
public sealed record ChangeCheckResult(ImmutableArray<ChangeProblem> Problems, ChangeClassification Classification)
{
    public bool Passed => Problems.IsEmpty;
}
