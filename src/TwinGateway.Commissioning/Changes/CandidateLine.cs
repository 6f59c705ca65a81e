using System.Collections.Immutable;
using TwinGateway.Core.Changes;
using TwinGateway.Core.Lines;

namespace TwinGateway.Commissioning.Changes;

/// <summary>The line definition a change asks for: its definition operation's (if any), with its pose operations applied.</summary>
public static class CandidateLine
{
    /// <summary>
    /// The definition after the change, or null when the change has neither a definition nor a pose operation (its set
    /// operations are inputs, not definition changes). Poses of robots or positions the definition lacks are left out:
    /// <see cref="ChangeChecks"/> reports them.
    /// </summary>
    /// <exception cref="ArgumentException">A definition operation's definition did not load (check the change first).</exception>
    public static LineDefinition? Build(ChangeRequest change, LineDefinition current)
    {
        ArgumentNullException.ThrowIfNull(change);
        ArgumentNullException.ThrowIfNull(current);
        LineDefinition? candidate = null;
        foreach (var operation in change.Operations)
        {
            if (operation is DefinitionOperation definition)
            {
                candidate = definition.Definition
                    ?? throw new ArgumentException($"the definition '{definition.Path}' did not load; run ChangeChecks first", nameof(change));
            }
        }

        var poses = change.Operations.OfType<PoseOperation>().ToList();
        if (poses.Count == 0)
        {
            return candidate;
        }

        candidate ??= current;
        var robots = candidate.Robots.Select(robot =>
        {
            var mine = poses.Where(p => string.Equals(p.RobotId, robot.Id, StringComparison.Ordinal)).ToList();
            return mine.Count == 0
                ? robot
                : robot with
                {
                    Positions = [.. robot.Positions.Select(position =>
                        mine.LastOrDefault(p => string.Equals(p.Position, position.Name, StringComparison.Ordinal)) is { } pose
                            ? position with { Joints = pose.Joints }
                            : position)],
                };
        });
        return candidate with { Robots = [.. robots] };
    }
}
