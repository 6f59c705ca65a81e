using System.Globalization;
using TwinGateway.Simulation;

namespace TwinGateway.PlcSim;

/// <summary>
/// The command line's fault syntax: <c>jam:STATION</c>, <c>sensor-offset:SIGNAL:OFFSET</c>,
/// <c>tool-wear:STATION:SECONDS_PER_HOUR</c>, <c>bearing-heat:STATION:DEGREES_PER_HOUR</c> (numbers in invariant culture).
/// </summary>
public static class FaultSpec
{
    public const string Syntax = "jam:STATION | sensor-offset:SIGNAL:OFFSET | tool-wear:STATION:SECONDS_PER_HOUR | bearing-heat:STATION:DEGREES_PER_HOUR";

    public static bool TryParse(string text, out TwinFault fault, out string error)
    {
        ArgumentNullException.ThrowIfNull(text);
        fault = null!;
        error = "";
        var parts = text.Split(':');
        var kind = parts[0].Trim().ToUpperInvariant();
        var expectedParts = kind == "JAM" ? 2 : 3;
        if (kind is not ("JAM" or "SENSOR-OFFSET" or "TOOL-WEAR" or "BEARING-HEAT"))
        {
            error = $"--fault '{text}': unknown fault '{parts[0]}' (expected {Syntax})";
            return false;
        }

        if (parts.Length != expectedParts || parts.Skip(1).Any(p => p.Trim().Length == 0))
        {
            error = $"--fault '{text}': expected {Example(kind)}";
            return false;
        }

        var target = parts[1].Trim();
        double number = 0;
        var numberOk = expectedParts == 2
            || (double.TryParse(parts[2], NumberStyles.Float, CultureInfo.InvariantCulture, out number) && double.IsFinite(number));
        if (!numberOk)
        {
            error = $"--fault '{text}': '{parts[2]}' is not a number (expected {Example(kind)})";
            return false;
        }

        fault = kind switch
        {
            "JAM" => new Jam(target),
            "SENSOR-OFFSET" => new SensorOffset(target, number),
            "TOOL-WEAR" => new ToolWear(target, number),
            _ => new BearingHeat(target, number),
        };
        return true;
    }

    /// <summary>The form that <see cref="TryParse"/> reads back.</summary>
    public static string Format(TwinFault fault) => fault switch
    {
        Jam j => $"jam:{j.StationId}",
        SensorOffset s => string.Create(CultureInfo.InvariantCulture, $"sensor-offset:{s.SignalId}:{s.Offset}"),
        ToolWear t => string.Create(CultureInfo.InvariantCulture, $"tool-wear:{t.StationId}:{t.CycleTimeIncreasePerHour}"),
        BearingHeat b => string.Create(CultureInfo.InvariantCulture, $"bearing-heat:{b.StationId}:{b.DegreesPerHour}"),
        _ => fault.ToString(),
    };

    private static string Example(string kind) => kind switch
    {
        "JAM" => "jam:STATION (for example jam:cnc1)",
        "SENSOR-OFFSET" => "sensor-offset:SIGNAL:OFFSET (for example sensor-offset:cnc1.spindleTemperature:5)",
        "TOOL-WEAR" => "tool-wear:STATION:SECONDS_PER_HOUR (for example tool-wear:cnc1:0.5)",
        _ => "bearing-heat:STATION:DEGREES_PER_HOUR (for example bearing-heat:cnc2:3)",
    };
}
