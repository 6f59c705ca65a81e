// Every mutable field must be saved here; the round-trip test fails when one is missing
// (tests/TwinGateway.Simulation.Tests/TwinSnapshotTests.cs compares every field of a restored twin with its original,
// then steps both for two simulated hours). A field added to LineTwin goes into WriteState and ReadState below; one
// added to StationRuntime or RobotRuntime into its Write and Read, next to the field; then bump SnapshotFormatVersion.

using System.Text;
using TwinGateway.Core.Lines;

namespace TwinGateway.Simulation;

/// <summary>
/// State snapshots: <see cref="SaveState"/> writes the twin's complete dynamic state and its options as bytes, and
/// <see cref="Restore"/> makes a twin from them (with the same line definition) that continues bit-identically, so a
/// validation that forked the live shadow twin can be re-run later from its evidence bundle.
/// </summary>
/// <remarks>
/// <para>The format (version 1), little-endian throughout (what <see cref="BinaryWriter"/> writes on every
/// platform): integers as their two's-complement bytes, doubles as their IEEE 754 bits (NaN payloads and -0 kept),
/// Booleans as one byte 0 or 1, strings as a 7-bit-encoded (LEB128) byte length and UTF-8.</para>
/// <list type="number">
/// <item>Header: the magic <c>TGTWIN1</c> (7 ASCII bytes), the format version (u16).</item>
/// <item>Options: seed (u64), step (i64 ticks, positive), start (i64 ticks, u8 DateTimeKind), mode (u8
/// <see cref="TwinMode"/>), random failures (u8: 0 default of the mode, 1 off, 2 on).</item>
/// <item>Line identity: the line id (string); then stations, signals, robots and interlocks, each as a count (i32)
/// and the ids in definition order (strings).</item>
/// <item>Twin: steps (i64), part-flow time in seconds since start (f64), parts produced, interlock holds, interlock
/// violations, axis limit violations (i64 each); the random generator (4 × u64), whether a Gaussian spare is held
/// (bool) and the spare (f64).</item>
/// <item>Per signal, in definition order: process state, reported value, sensor offset (f64 each).</item>
/// <item>Per station: part count (i32), slot count (i32), per slot remaining and sampled processing time (f64);
/// generator remaining and duration (f64), generator waiting, failed (bool), repair remaining, failure budget (f64),
/// jammed, held (bool), produced, good, rejected (i64), last cycle time, wear rate, wear, heat rate, heat (f64),
/// state (u8 <see cref="StationState"/>).</item>
/// <item>Per robot: rest pose, cycle start pose, target pose (i32), in program (bool), joint count (i32) and joints
/// (f64).</item>
/// <item>Per interlock: whether it is holding (bool).</item>
/// <item>Injected faults: count (i32), then each as its kind (u8: 1 tool wear, 2 sensor offset, 3 bearing heat,
/// 4 jam, 5 gain change, 6 noise increase, 7 stuck sensor, 8 slow leak), its target id (string) and, except a jam or
/// a stuck sensor, its rate, offset or factor (f64).</item>
/// </list>
/// <para>Kinds 5 to 8 were added within version 1: a snapshot without them is byte for byte what earlier builds wrote
/// and read, and their effects need no bytes of their own (gain, noise and stuck flag follow from the list, a leak's
/// drift is in the sensor offset, a stuck reading is the reported value).</para>
/// <para>Nothing follows the last fault. Not saved, because the definition and options rebuild them: signal plans,
/// indexes, topology, robot paths, and the per-step scratch arrays of the interlocks (cleared before each use).</para>
/// </remarks>
public sealed partial class LineTwin
{
    /// <summary>The version of the snapshot format <see cref="SaveState"/> writes; <see cref="Restore"/> reads only this one.</summary>
    public const ushort SnapshotFormatVersion = 1;

    private const byte FaultToolWear = 1;
    private const byte FaultSensorOffset = 2;
    private const byte FaultBearingHeat = 3;
    private const byte FaultJam = 4;
    private const byte FaultGainChange = 5;
    private const byte FaultNoiseIncrease = 6;
    private const byte FaultStuckSensor = 7;
    private const byte FaultSlowLeak = 8;

    /// <summary>UTF-8 that refuses malformed bytes instead of replacing them, so a corrupt id is reported as such.</summary>
    private static readonly UTF8Encoding SnapshotEncoding = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static ReadOnlySpan<byte> SnapshotMagic => "TGTWIN1"u8;

    /// <inheritdoc/>
    /// <remarks>The layout is described on this partial class (LineTwin.Snapshot.cs).</remarks>
    /// <exception cref="InvalidOperationException">An injected fault is of a kind the snapshot format does not know.</exception>
    public byte[] SaveState()
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, SnapshotEncoding, leaveOpen: true))
        {
            writer.Write(SnapshotMagic);
            writer.Write(SnapshotFormatVersion);
            WriteOptions(writer, Options);
            WriteIdentity(writer, Line);
            WriteState(writer);
        }

        return stream.ToArray();
    }

    /// <summary>
    /// A twin of <paramref name="line"/> with exactly the state <see cref="SaveState"/> saved, in the saved mode and
    /// with the saved options: it continues bit-identically to the twin that was saved.
    /// </summary>
    /// <exception cref="InvalidDataException">The bytes are not a twin snapshot, are of another format version, are
    /// truncated or corrupt, or do not match <paramref name="line"/> (the message names the first mismatch).</exception>
    /// <exception cref="ArgumentException"><paramref name="line"/> itself is not a line the twin can run.</exception>
    public static LineTwin Restore(LineDefinition line, ReadOnlySpan<byte> state)
    {
        ArgumentNullException.ThrowIfNull(line);
        if (state.Length < SnapshotMagic.Length + sizeof(ushort) || !state[..SnapshotMagic.Length].SequenceEqual(SnapshotMagic))
        {
            throw new InvalidDataException($"not a twin snapshot: it does not start with '{Encoding.ASCII.GetString(SnapshotMagic)}'");
        }

        var version = System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(state[SnapshotMagic.Length..]);
        if (version != SnapshotFormatVersion)
        {
            throw new InvalidDataException($"the twin snapshot is of format version {version}; this build reads version {SnapshotFormatVersion}");
        }

        using var stream = new MemoryStream(state[(SnapshotMagic.Length + sizeof(ushort))..].ToArray(), writable: false);
        using var reader = new BinaryReader(stream, SnapshotEncoding);
        try
        {
            var options = ReadOptions(reader);
            CheckIdentity(reader, line);
            var twin = new LineTwin(line, options);
            twin.ReadState(reader);
            if (stream.Position != stream.Length)
            {
                throw new InvalidDataException($"the twin snapshot has {stream.Length - stream.Position} bytes after its end");
            }

            return twin;
        }
        catch (Exception e) when (e is EndOfStreamException or DecoderFallbackException)
        {
            throw new InvalidDataException($"the twin snapshot is truncated or corrupt ({e.Message})", e);
        }
    }

    /// <summary>A count from a snapshot, checked against the bytes left (each item takes at least <paramref name="bytesPerItem"/>).</summary>
    internal static int ReadCount(BinaryReader reader, string what, int bytesPerItem)
    {
        var count = reader.ReadInt32();
        var left = reader.BaseStream.Length - reader.BaseStream.Position;
        if (count < 0 || (long)count * bytesPerItem > left)
        {
            throw new InvalidDataException($"the twin snapshot is corrupt: {count} {what}, with {left} bytes left");
        }

        return count;
    }

    /// <summary>A Boolean from a snapshot: the byte must be 0 or 1.</summary>
    internal static bool ReadFlag(BinaryReader reader)
    {
        var value = reader.ReadByte();
        return value <= 1 ? value == 1 : throw new InvalidDataException($"the twin snapshot is corrupt: {value} where a Boolean (0 or 1) belongs");
    }

    /// <summary>An enum stored as one byte, checked to be one of its values.</summary>
    internal static T ReadEnum<T>(BinaryReader reader, string what)
        where T : struct, Enum
    {
        var raw = reader.ReadByte();
        var value = (T)Enum.ToObject(typeof(T), raw);
        return Enum.IsDefined(value) ? value : throw new InvalidDataException($"the twin snapshot is corrupt: {raw} is no {what}");
    }

    private static void WriteOptions(BinaryWriter writer, TwinOptions options)
    {
        writer.Write(options.Seed);
        writer.Write(options.Step.Ticks);
        writer.Write(options.Start.Ticks);
        writer.Write((byte)options.Start.Kind);
        writer.Write((byte)options.Mode);
        writer.Write((byte)(options.RandomFailures is { } on ? (on ? 2 : 1) : 0));
    }

    private static TwinOptions ReadOptions(BinaryReader reader)
    {
        var seed = reader.ReadUInt64();
        var step = reader.ReadInt64();
        var start = reader.ReadInt64();
        var kind = ReadEnum<DateTimeKind>(reader, "DateTimeKind");
        var mode = ReadEnum<TwinMode>(reader, "twin mode");
        var randomFailures = reader.ReadByte();
        if (step <= 0 || start < DateTime.MinValue.Ticks || start > DateTime.MaxValue.Ticks || randomFailures > 2)
        {
            throw new InvalidDataException($"the twin snapshot's options are corrupt (step {step} ticks, start {start} ticks, random failures {randomFailures})");
        }

        return new TwinOptions
        {
            Seed = seed,
            Step = TimeSpan.FromTicks(step),
            Start = new DateTime(start, kind),
            Mode = mode,
            RandomFailures = randomFailures == 0 ? null : randomFailures == 2,
        };
    }

    private static void WriteIdentity(BinaryWriter writer, LineDefinition line)
    {
        writer.Write(line.Id);
        WriteIds(writer, [.. line.Stations.Select(s => s.Id)]);
        WriteIds(writer, [.. line.Signals.Select(s => s.Id)]);
        WriteIds(writer, [.. line.Robots.Select(r => r.Id)]);
        WriteIds(writer, [.. line.Interlocks.Select(k => k.Id)]);
    }

    private static void WriteIds(BinaryWriter writer, string[] ids)
    {
        writer.Write(ids.Length);
        foreach (var id in ids)
        {
            writer.Write(id);
        }
    }

    private static void CheckIdentity(BinaryReader reader, LineDefinition line)
    {
        var lineId = reader.ReadString();
        if (!string.Equals(lineId, line.Id, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"the twin snapshot is of line '{lineId}', not of line '{line.Id}'");
        }

        CheckIds(reader, line, "station", [.. line.Stations.Select(s => s.Id)]);
        CheckIds(reader, line, "signal", [.. line.Signals.Select(s => s.Id)]);
        CheckIds(reader, line, "robot", [.. line.Robots.Select(r => r.Id)]);
        CheckIds(reader, line, "interlock", [.. line.Interlocks.Select(k => k.Id)]);
    }

    private static void CheckIds(BinaryReader reader, LineDefinition line, string what, string[] ids)
    {
        var count = ReadCount(reader, what + " ids", 1);
        var saved = new string[count];
        for (var i = 0; i < count; i++)
        {
            saved[i] = reader.ReadString();
        }

        var counts = $"({count} {what}s in the snapshot, {ids.Length} in the line)";
        for (var i = 0; i < Math.Min(count, ids.Length); i++)
        {
            if (!string.Equals(saved[i], ids[i], StringComparison.Ordinal))
            {
                throw new InvalidDataException(
                    $"the twin snapshot does not match line '{line.Id}': its {what} {i + 1} is '{saved[i]}' where the line has '{ids[i]}' {counts}");
            }
        }

        if (count > ids.Length)
        {
            throw new InvalidDataException($"the twin snapshot does not match line '{line.Id}': it has {what} '{saved[ids.Length]}', which the line does not {counts}");
        }

        if (count < ids.Length)
        {
            throw new InvalidDataException($"the twin snapshot does not match line '{line.Id}': the line has {what} '{ids[count]}', which the snapshot does not {counts}");
        }
    }

    private void WriteState(BinaryWriter writer)
    {
        writer.Write(Steps);
        writer.Write(_now);
        writer.Write(PartsProduced);
        writer.Write(InterlockHolds);
        writer.Write(InterlockViolations);
        writer.Write(AxisLimitViolations);
        _rng.Write(writer);
        writer.Write(_hasSpareGaussian);
        writer.Write(_spareGaussian);

        for (var i = 0; i < _state.Length; i++)
        {
            writer.Write(_state[i]);
            writer.Write(_values[i]);
            writer.Write(_offsets[i]);
        }

        foreach (var station in _stations)
        {
            station.Write(writer);
        }

        foreach (var robot in _robots)
        {
            robot.Write(writer);
        }

        foreach (var stopping in _interlockStopping)
        {
            writer.Write(stopping);
        }

        writer.Write(_faults.Count);
        foreach (var fault in _faults)
        {
            switch (fault)
            {
                case ToolWear wear:
                    writer.Write(FaultToolWear);
                    writer.Write(wear.StationId);
                    writer.Write(wear.CycleTimeIncreasePerHour);
                    break;
                case SensorOffset offset:
                    writer.Write(FaultSensorOffset);
                    writer.Write(offset.SignalId);
                    writer.Write(offset.Offset);
                    break;
                case BearingHeat heat:
                    writer.Write(FaultBearingHeat);
                    writer.Write(heat.StationId);
                    writer.Write(heat.DegreesPerHour);
                    break;
                case Jam jam:
                    writer.Write(FaultJam);
                    writer.Write(jam.StationId);
                    break;
                case GainChange gain:
                    writer.Write(FaultGainChange);
                    writer.Write(gain.SignalId);
                    writer.Write(gain.Factor);
                    break;
                case NoiseIncrease noise:
                    writer.Write(FaultNoiseIncrease);
                    writer.Write(noise.SignalId);
                    writer.Write(noise.Factor);
                    break;
                case StuckSensor stuck:
                    writer.Write(FaultStuckSensor);
                    writer.Write(stuck.SignalId);
                    break;
                case SlowLeak leak:
                    writer.Write(FaultSlowLeak);
                    writer.Write(leak.SignalId);
                    writer.Write(leak.UnitsPerHour);
                    break;
                default:
                    throw new InvalidOperationException($"fault {fault.GetType().Name} has no snapshot form");
            }
        }
    }

    /// <summary>Overwrites the state a fresh twin started with by the saved one; nothing is recomputed, so the values read as saved.</summary>
    private void ReadState(BinaryReader reader)
    {
        Steps = reader.ReadInt64();
        _now = reader.ReadDouble();
        _timeBase = TimeBase();
        PartsProduced = reader.ReadInt64();
        InterlockHolds = reader.ReadInt64();
        InterlockViolations = reader.ReadInt64();
        AxisLimitViolations = reader.ReadInt64();
        if (Steps < 0)
        {
            throw new InvalidDataException($"the twin snapshot is corrupt: {Steps} steps");
        }

        _rng = Xoshiro256StarStar.Read(reader);
        _hasSpareGaussian = ReadFlag(reader);
        _spareGaussian = reader.ReadDouble();

        for (var i = 0; i < _state.Length; i++)
        {
            _state[i] = reader.ReadDouble();
            _values[i] = reader.ReadDouble();
            _offsets[i] = reader.ReadDouble();
        }

        foreach (var station in _stations)
        {
            station.Read(reader);
        }

        foreach (var robot in _robots)
        {
            robot.Read(reader);
        }

        for (var k = 0; k < _interlockStopping.Length; k++)
        {
            _interlockStopping[k] = ReadFlag(reader);
        }

        var faults = ReadCount(reader, "faults", 2);
        for (var f = 0; f < faults; f++)
        {
            var kind = reader.ReadByte();
            var target = reader.ReadString();
            TwinFault fault = kind switch
            {
                FaultToolWear => new ToolWear(target, reader.ReadDouble()),
                FaultSensorOffset => new SensorOffset(target, reader.ReadDouble()),
                FaultBearingHeat => new BearingHeat(target, reader.ReadDouble()),
                FaultJam => new Jam(target),
                FaultGainChange => new GainChange(target, reader.ReadDouble()),
                FaultNoiseIncrease => new NoiseIncrease(target, reader.ReadDouble()),
                FaultStuckSensor => new StuckSensor(target),
                FaultSlowLeak => new SlowLeak(target, reader.ReadDouble()),
                _ => throw new InvalidDataException($"the twin snapshot is corrupt: fault kind {kind}"),
            };

            // The fault's effects (wear and heat rates, jams, offsets, leaks' drift) are in the state read above; only the list is rebuilt.
            if (CheckFault(fault) is { } problem)
            {
                throw new InvalidDataException($"the twin snapshot's fault {f + 1} does not fit the line: {problem}");
            }

            _faults.Add(fault);
        }

        // The sensor faults' gains, noise factors, leak rates and stuck flags follow from the list.
        RebuildSensorFaults();

        // Derived from the setpoints just read (_state): the cycle-time factors of the setpoint effects.
        UpdateCycleFactors();
    }
}
