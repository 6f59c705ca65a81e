using TwinGateway.Core.Lines;

namespace TwinGateway.Simulation;

/// <summary>A shadow twin following the real line's downtime.</summary>
public sealed partial class LineTwin
{
    /// <inheritdoc/>
    public void FollowDowntime(int stationIndex, bool down)
    {
        var station = _stations[stationIndex];
        if (station.HeldDown == down)
        {
            return;
        }

        station.HeldDown = down;
        UpdateDiscrete();
    }
}
