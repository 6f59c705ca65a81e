using System.Globalization;
using TwinGateway.Core.Alerts;

namespace TwinGateway.Drift.Alerts;

/// <summary>The relative link an alert carries to the plot of its contributing signals: <c>/lines/{line}?signals=a,b&amp;from=..&amp;to=..</c>.</summary>
internal static class AlertPlotLink
{
    // Model features are "signalId:residual" or "signalId:value" (ModelCard.Features); the plot takes signal ids.
    private static readonly string[] FeatureSuffixes = [":residual", ":value"];

    public static string For(string line, IEnumerable<AlertContributor> contributors, DateTimeOffset from, DateTimeOffset to)
    {
        var signals = contributors
            .Select(c => SignalOf(c.Signal))
            .Distinct(StringComparer.Ordinal)
            .Select(Uri.EscapeDataString);
        return $"/lines/{Uri.EscapeDataString(line)}?signals={string.Join(',', signals)}&from={Time(from)}&to={Time(to)}";
    }

    private static string SignalOf(string feature)
    {
        foreach (var suffix in FeatureSuffixes)
        {
            if (feature.EndsWith(suffix, StringComparison.Ordinal))
            {
                return feature[..^suffix.Length];
            }
        }

        return feature;
    }

    // ISO 8601 UTC with milliseconds: no character of it needs escaping in a query.
    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
