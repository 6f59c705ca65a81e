using TwinGateway.Core.Lines;

namespace TwinGateway.Simulation;

/// <summary>Robot poses taught at run time and the axis-limit check.</summary>
public sealed partial class LineTwin
{
    /// <summary>
    /// Teaches robot <paramref name="robotId"/>'s position <paramref name="position"/> new joints (one per axis, in axis
    /// order, each within its axis limits), as writing the pose on the robot controller does. The robot moves to the new
    /// pose from its next move there; <see cref="Line"/> carries the new joints, so forks keep them.
    /// </summary>
    /// <exception cref="ArgumentException">No such robot or position, the wrong number of joints, or a joint that is not finite or outside its axis limits.</exception>
    public void SetRobotPosition(string robotId, string position, ReadOnlySpan<double> joints)
    {
        ArgumentNullException.ThrowIfNull(robotId);
        ArgumentNullException.ThrowIfNull(position);
        var r = Array.FindIndex(_robots, x => string.Equals(x.Definition.Id, robotId, StringComparison.Ordinal));
        if (r < 0)
        {
            throw new ArgumentException($"line '{Line.Id}' has no robot '{robotId}'", nameof(robotId));
        }

        var robot = _robots[r];
        var pose = robot.PoseIndex(position);
        if (pose < 0)
        {
            throw new ArgumentException(
                $"robot '{robotId}' has no position '{position}' (it has {string.Join(", ", robot.Definition.Positions.Select(p => p.Name))})", nameof(position));
        }

        if (joints.Length != robot.Axes)
        {
            throw new ArgumentException($"position '{position}' of robot '{robotId}' takes {robot.Axes} joint values, one per axis; {joints.Length} given", nameof(joints));
        }

        for (var a = 0; a < joints.Length; a++)
        {
            var axis = robot.Definition.Axes[a];
            if (!double.IsFinite(joints[a]) || joints[a] < axis.Min || joints[a] > axis.Max)
            {
                throw new ArgumentException(
                    $"joint {a + 1} of position '{position}' of robot '{robotId}' is {joints[a]}, outside axis '{axis.Name}' limits {axis.Min} to {axis.Max}", nameof(joints));
            }
        }

        robot.SetPose(pose, joints);
        var definition = Line.Robots[r];
        var taught = definition.Positions[pose] with { Joints = [.. joints] };
        Line = Line with { Robots = Line.Robots.SetItem(r, definition with { Positions = definition.Positions.SetItem(pose, taught) }) };
        UpdateDiscrete();
    }

    /// <summary>Counts the step when any joint of any robot is outside its axis limits.</summary>
    private void CheckAxisLimits()
    {
        foreach (var robot in _robots)
        {
            if (robot.IsOutsideLimits())
            {
                AxisLimitViolations++;
                return;
            }
        }
    }
}
