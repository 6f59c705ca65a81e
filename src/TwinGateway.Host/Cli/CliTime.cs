using System.Globalization;

namespace TwinGateway.Host.Cli;

/// <summary>
/// Times on the command line: ISO 8601 (<c>2026-11-27T08:00:00Z</c>; without an offset the time is UTC), <c>now</c>,
/// or relative to now (<c>-15m</c>, <c>-2h</c>, <c>-1d</c>, <c>-30s</c>).
/// </summary>
internal static class CliTime
{
    public static bool TryParse(string text, DateTimeOffset now, out DateTimeOffset time, out string error)
    {
        error = "";
        text = text.Trim();
        if (text.Equals("now", StringComparison.OrdinalIgnoreCase))
        {
            time = now;
            return true;
        }

        if (text.Length >= 3 && text[0] == '-' && "smhd".Contains(char.ToLowerInvariant(text[^1]), StringComparison.Ordinal)
            && double.TryParse(text[1..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) && amount >= 0)
        {
            var span = char.ToLowerInvariant(text[^1]) switch
            {
                's' => TimeSpan.FromSeconds(amount),
                'm' => TimeSpan.FromMinutes(amount),
                'h' => TimeSpan.FromHours(amount),
                _ => TimeSpan.FromDays(amount),
            };
            time = now - span;
            return true;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time))
        {
            return true;
        }

        error = $"'{text}' is not a time: use ISO 8601 (2026-11-27T08:00:00Z), now, or -15m / -2h / -1d";
        return false;
    }
}
