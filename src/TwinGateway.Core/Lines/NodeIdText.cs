using System.Globalization;

namespace TwinGateway.Core.Lines;

/// <summary>
/// Checks node ids in the standard string form of OPC UA Part 6, 5.3.1.10: <c>ns=&lt;index&gt;;&lt;type&gt;=&lt;value&gt;</c>
/// with type <c>i</c> (UInt32), <c>s</c> (string), <c>g</c> (Guid) or <c>b</c> (base64 ByteString), and the
/// <c>ns=0;</c> prefix optional. Core does not depend on the OPC UA stack, so this is a check of the text only.
/// </summary>
public static class NodeIdText
{
    /// <summary>Null when <paramref name="text"/> is a valid node id; otherwise why it is not.</summary>
    public static string? Validate(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var rest = text.AsSpan();
        if (rest.StartsWith("nsu=", StringComparison.Ordinal))
        {
            return "'nsu=' names a namespace URI (an expanded node id); a signal's node id uses the index form 'ns=<index>;'";
        }

        if (rest.StartsWith("ns=", StringComparison.Ordinal))
        {
            var separator = rest.IndexOf(';');
            if (separator < 0)
            {
                return "expected ';' after the namespace index (for example 'ns=2;s=Line.Speed')";
            }

            var index = rest[3..separator];
            if (!ushort.TryParse(index, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                return $"the namespace index '{index}' is not a number from 0 to 65535";
            }

            rest = rest[(separator + 1)..];
        }

        if (rest.Length < 2 || rest[1] != '=')
        {
            return "expected an identifier type 'i=', 's=', 'g=' or 'b=' (for example 'ns=2;s=Line.Speed')";
        }

        var value = rest[2..];
        switch (rest[0])
        {
            case 'i':
                return uint.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out _)
                    ? null
                    : $"a numeric identifier 'i={value}' must be a number from 0 to 4294967295";
            case 's':
                return value.IsEmpty ? "the string identifier after 's=' is empty" : null;
            case 'g':
                return Guid.TryParseExact(value, "D", out _)
                    ? null
                    : $"a Guid identifier 'g={value}' must look like 09087e75-8e5e-499b-954f-f2a9603db28a";
            case 'b':
                var bytes = new byte[value.Length];
                return !value.IsEmpty && Convert.TryFromBase64Chars(value, bytes, out _)
                    ? null
                    : $"an opaque identifier 'b={value}' must be base64";
            default:
                return $"unknown identifier type '{rest[0]}=' (expected 'i=', 's=', 'g=' or 'b=')";
        }
    }
}
