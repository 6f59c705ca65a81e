using System.Numerics;

namespace TwinGateway.Simulation;

/// <summary>
/// xoshiro256** (Blackman and Vigna), seeded through SplitMix64: small, fast, and the same sequence on every machine
/// and runtime, which System.Random does not promise. A value type, so copying a twin copies its stream exactly.
/// </summary>
internal struct Xoshiro256StarStar
{
    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;

    public Xoshiro256StarStar(ulong seed)
    {
        var x = seed;
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
    }

    public ulong NextUInt64()
    {
        var result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Writes the generator's state, its four words, for a twin snapshot (<see cref="LineTwin.SaveState"/>).</summary>
    public readonly void Write(BinaryWriter writer)
    {
        writer.Write(_s0);
        writer.Write(_s1);
        writer.Write(_s2);
        writer.Write(_s3);
    }

    /// <summary>A generator that continues exactly where the one <see cref="Write"/> wrote stopped.</summary>
    /// <exception cref="InvalidDataException">The state is all zeros, which xoshiro never reaches (it would stay 0).</exception>
    public static Xoshiro256StarStar Read(BinaryReader reader)
    {
        var rng = default(Xoshiro256StarStar);
        rng._s0 = reader.ReadUInt64();
        rng._s1 = reader.ReadUInt64();
        rng._s2 = reader.ReadUInt64();
        rng._s3 = reader.ReadUInt64();
        if ((rng._s0 | rng._s1 | rng._s2 | rng._s3) == 0)
        {
            throw new InvalidDataException("the twin snapshot's random generator state is all zeros");
        }

        return rng;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    private static ulong SplitMix64(ref ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        var z = x;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
