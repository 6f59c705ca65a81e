using TwinGateway.Core.Lines;

namespace TwinGateway.Simulation.Tests;

public sealed class FaultTests
{
    [Fact]
    public void Tool_wear_lengthens_the_measured_cycle_time()
    {
        var baseline = new LineTwin(DemoLine.Definition, new TwinOptions { Seed = 6 });
        var worn = new LineTwin(DemoLine.Definition, new TwinOptions { Seed = 6 });
        worn.InjectFault(new ToolWear("cnc1", 40)); // 40 s longer per hour

        var baseCycles = CycleTimes(baseline, TimeSpan.FromHours(2));
        var wornCycles = CycleTimes(worn, TimeSpan.FromHours(2));

        // In the second hour every cnc1 cycle is 40..80 s longer than the 72 s it samples.
        Assert.InRange(baseCycles.Average(), 68, 76);
        Assert.InRange(wornCycles.Average(), 72 + 40, 72 + 80);
        Assert.All(wornCycles, c => Assert.True(c > 100, $"cycle {c} s"));
        Assert.Single(worn.ActiveFaults);

        static List<double> CycleTimes(LineTwin twin, TimeSpan duration)
        {
            var cycles = new List<double>();
            var produced = twin.GetValue("cnc1.partsProduced");
            var half = twin.SimTime + (duration / 2);
            while (twin.SimTime < twin.Options.Start + duration)
            {
                twin.Step();
                if (twin.GetValue("cnc1.partsProduced") != produced)
                {
                    produced = twin.GetValue("cnc1.partsProduced");
                    if (twin.SimTime > half)
                    {
                        cycles.Add(twin.GetValue("cnc1.lastCycleTime"));
                    }
                }
            }

            Assert.NotEmpty(cycles);
            return cycles;
        }
    }

    [Fact]
    public void A_sensor_offset_shifts_exactly_that_signal()
    {
        var baseline = new LineTwin(DemoLine.Definition, new TwinOptions { Seed = 12 });
        var offset = new LineTwin(DemoLine.Definition, new TwinOptions { Seed = 12 });
        offset.InjectFault(new SensorOffset("cnc1.spindleTemperature", 5));

        baseline.RunUntil(baseline.SimTime.AddMinutes(30));
        offset.RunUntil(offset.SimTime.AddMinutes(30));

        var a = DeterminismTests.Bits(baseline);
        var b = DeterminismTests.Bits(offset);
        var index = offset.IndexOf("cnc1.spindleTemperature");
        for (var i = 0; i < a.Length; i++)
        {
            if (i != index)
            {
                Assert.True(a[i] == b[i], $"{offset.Signals[i].Id} moved too");
            }
        }

        Assert.Equal(5, offset.GetValue(index) - baseline.GetValue(index), 9);

        offset.ClearFaults();
        offset.Step();
        baseline.Step();
        Assert.Equal(baseline.GetValue(index), offset.GetValue(index), 9);
        Assert.Empty(offset.ActiveFaults);
    }

    [Fact]
    public void Bearing_heat_raises_that_stations_temperatures_only()
    {
        var baseline = new LineTwin(DemoLine.Definition, new TwinOptions { Seed = 13 });
        var hot = new LineTwin(DemoLine.Definition, new TwinOptions { Seed = 13 });
        hot.InjectFault(new BearingHeat("cnc2", 3));

        baseline.RunUntil(baseline.SimTime.AddHours(2));
        hot.RunUntil(hot.SimTime.AddHours(2));

        foreach (var signal in DemoLine.Definition.Signals)
        {
            var difference = hot.GetValue(signal.Id) - baseline.GetValue(signal.Id);
            if (signal.StationId == "cnc2" && signal.Model is TemperatureModel)
            {
                Assert.Equal(6, difference, 6); // 3 degrees an hour for two hours
            }
            else
            {
                Assert.True(difference == 0, $"{signal.Id} moved by {difference}");
            }
        }
    }

    [Fact]
    public void A_jam_stops_the_station_and_the_output_until_cleared()
    {
        var twin = DemoLine.Run(TimeSpan.FromMinutes(30), new TwinOptions { Seed = 14 });
        var produced = twin.PartsProduced;
        Assert.True(produced > 10);

        twin.InjectFault(new Jam("outfeed"));
        Assert.Equal(StationState.Failed, twin.GetStationState("outfeed"));
        Assert.Equal(1, twin.GetValue("outfeed.faulted"));
        twin.RunUntil(twin.SimTime.AddMinutes(30));
        Assert.Equal(produced, twin.PartsProduced);
        Assert.Equal(StationState.Failed, twin.GetStationState("outfeed"));
        Assert.Equal(0, twin.GetValue("outfeed.motorCurrent"), 0.3); // a failed station draws no current

        twin.ClearFaults();
        twin.RunUntil(twin.SimTime.AddMinutes(10));
        Assert.True(twin.PartsProduced > produced + 5, "the line did not resume after the jam was cleared");
    }

    [Fact]
    public void A_jammed_machine_stops_making_parts()
    {
        var twin = DemoLine.Run(TimeSpan.FromMinutes(10), new TwinOptions { Seed = 15 });
        twin.InjectFault(new Jam("cnc1"));
        var produced = twin.GetValue("cnc1.partsProduced");

        twin.RunUntil(twin.SimTime.AddMinutes(30));

        Assert.Equal(produced, twin.GetValue("cnc1.partsProduced"));
        Assert.Equal((int)StationState.Failed, twin.GetValue("cnc1.state"));
        Assert.True(twin.GetValue("cnc2.partsProduced") > 15, "cnc2 goes on working");
    }

    [Fact]
    public void Faults_naming_unknown_targets_are_refused_with_the_name()
    {
        var twin = new LineTwin(DemoLine.Definition);

        Assert.Contains("'cnc9'", Assert.Throws<ArgumentException>(() => twin.InjectFault(new Jam("cnc9"))).Message, StringComparison.Ordinal);
        Assert.Contains("'cnc1.spindleTemp'", Assert.Throws<ArgumentException>(() => twin.InjectFault(new SensorOffset("cnc1.spindleTemp", 5))).Message, StringComparison.Ordinal);
        Assert.Contains("buffer", Assert.Throws<ArgumentException>(() => twin.InjectFault(new ToolWear("buffer", 1))).Message, StringComparison.Ordinal);
        Assert.NotNull(twin.CheckFault(new BearingHeat("nowhere", 1)));
        Assert.Null(twin.CheckFault(new BearingHeat("cnc2", 1)));
        Assert.Empty(twin.ActiveFaults);
    }
}
