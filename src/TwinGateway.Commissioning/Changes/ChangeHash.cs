using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using TwinGateway.Core.Changes;

namespace TwinGateway.Commissioning.Changes;

/// <summary>
/// The content hash of a change: SHA-256 (lower-case hex) over a canonical byte encoding of everything that defines
/// it, so that approvals and evidence bind to exactly what is applied. The same change written with other YAML
/// formatting or comments gives the same hash; any edit of a field or value gives another.
/// </summary>
/// <remarks>
/// <para>The encoding (format 1), written by hand rather than by a serializer so it never changes with a library:</para>
/// <list type="table">
/// <item><term>magic</term><description>the 9 ASCII bytes <c>TGCHANGE1</c></description></item>
/// <item><term>str</term><description>uint32 big-endian byte length, then the UTF-8 bytes</description></item>
/// <item><term>num</term><description>a str holding the number's round-trip invariant text (<c>"R"</c> format; -0 as <c>0</c>)</description></item>
/// <item><term>change</term><description>magic, str line, str title, str reason, uint32 operation count, the operations</description></item>
/// <item><term>set</term><description>str <c>set</c>, str signal id, value</description></item>
/// <item><term>call</term><description>str <c>call</c>, str method id, str object id, byte 0 (no controller) or 1 + str controller id, uint32 count, values</description></item>
/// <item><term>pose</term><description>str <c>pose</c>, str robot id, str position, uint32 count, nums</description></item>
/// <item><term>definition</term><description>str <c>definition</c>, str of the definition file's exact text (its path is where it lay, not what it is)</description></item>
/// <item><term>value</term><description>byte kind (1 number, 2 Boolean, 3 text, 4 numbers), then num, byte 0/1, str, or uint32 count + nums</description></item>
/// </list>
/// <para>Source locations are not part of a change's content. Every text is length-prefixed, so moving bytes from one
/// field to the next changes the hash.</para>
/// </remarks>
public static class ChangeHash
{
    /// <summary>The first bytes of the encoding; the digit is the format version.</summary>
    public static ReadOnlySpan<byte> Magic => "TGCHANGE1"u8;

    /// <summary>The canonical encoding described in the remarks.</summary>
    public static byte[] Encode(ChangeRequest change)
    {
        ArgumentNullException.ThrowIfNull(change);
        var buffer = new MemoryStream();
        buffer.Write(Magic);
        WriteString(buffer, change.LineId);
        WriteString(buffer, change.Title);
        WriteString(buffer, change.Reason);
        var operations = change.Operations.IsDefault ? [] : change.Operations;
        WriteCount(buffer, operations.Length);
        foreach (var operation in operations)
        {
            WriteString(buffer, operation.Kind);
            switch (operation)
            {
                case SetOperation set:
                    WriteString(buffer, set.SignalId);
                    WriteValue(buffer, set.Value);
                    break;
                case CallOperation call:
                    WriteString(buffer, call.MethodId);
                    WriteString(buffer, call.ObjectId);
                    if (call.ControllerId is null)
                    {
                        buffer.WriteByte(0);
                    }
                    else
                    {
                        buffer.WriteByte(1);
                        WriteString(buffer, call.ControllerId);
                    }

                    var arguments = call.Arguments.IsDefault ? [] : call.Arguments;
                    WriteCount(buffer, arguments.Length);
                    foreach (var argument in arguments)
                    {
                        WriteValue(buffer, argument);
                    }

                    break;
                case PoseOperation pose:
                    WriteString(buffer, pose.RobotId);
                    WriteString(buffer, pose.Position);
                    WriteNumbers(buffer, pose.Joints);
                    break;
                case DefinitionOperation definition:
                    WriteString(buffer, definition.Text);
                    break;
                default:
                    throw new ArgumentException($"unknown operation kind '{operation.Kind}'", nameof(change));
            }
        }

        return buffer.ToArray();
    }

    /// <summary>SHA-256 of <see cref="Encode"/>, as 64 lower-case hex digits.</summary>
    public static string Compute(ChangeRequest change) => Convert.ToHexStringLower(SHA256.HashData(Encode(change)));

    /// <summary>The canonical text of a number: round-trip invariant, negative zero as <c>0</c>.</summary>
    public static string FormatNumber(double value) =>
        value == 0 ? "0" : value.ToString("R", CultureInfo.InvariantCulture);

    private static void WriteValue(MemoryStream buffer, ChangeValue value)
    {
        switch (value.Kind)
        {
            case ChangeValueKind.Number:
                buffer.WriteByte(1);
                WriteString(buffer, FormatNumber(value.Number));
                break;
            case ChangeValueKind.Boolean:
                buffer.WriteByte(2);
                buffer.WriteByte(value.Number != 0 ? (byte)1 : (byte)0);
                break;
            case ChangeValueKind.Text:
                buffer.WriteByte(3);
                WriteString(buffer, value.Text ?? "");
                break;
            case ChangeValueKind.Numbers:
                buffer.WriteByte(4);
                WriteNumbers(buffer, value.Numbers);
                break;
            default:
                throw new ArgumentException($"unknown value kind {value.Kind}", nameof(value));
        }
    }

    private static void WriteNumbers(MemoryStream buffer, System.Collections.Immutable.ImmutableArray<double> numbers)
    {
        var items = numbers.IsDefault ? [] : numbers;
        WriteCount(buffer, items.Length);
        foreach (var number in items)
        {
            WriteString(buffer, FormatNumber(number));
        }
    }

    private static void WriteCount(MemoryStream buffer, int count)
    {
        Span<byte> prefix = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(prefix, (uint)count);
        buffer.Write(prefix);
    }

    private static void WriteString(MemoryStream buffer, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        WriteCount(buffer, bytes.Length);
        buffer.Write(bytes);
    }
}
