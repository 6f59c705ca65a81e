using System.Globalization;
using TwinGateway.Core;
using TwinGateway.Core.Alerts;

namespace TwinGateway.Host.Pages.Alerts;

/// <summary>One row of the alerts table: the alert and which actions the signed-in user may take on it.</summary>
/// <param name="Alert">The alert as stored (or as the engine holds it).</param>
/// <param name="CanAcknowledge">The role table lets the user acknowledge.</param>
/// <param name="CanResolve">The role table lets the user resolve.</param>
/// <param name="ReturnUrl">Where an action on the row goes back to (the list with its filters).</param>
internal sealed record AlertRowView(DriftAlert Alert, bool CanAcknowledge, bool CanResolve, string ReturnUrl)
{
    public bool ShowAcknowledge => CanAcknowledge && Alert.State == AlertState.Open;

    public bool ShowResolve => CanResolve && Alert.State != AlertState.Resolved;
}

/// <summary>How the alert pages write an alert's parts: words for states (badges are never colour only), times in UTC.</summary>
internal static class AlertView
{
    /// <summary>What the script and the live feed call a state: <c>open</c>, <c>acknowledged</c>, <c>resolved</c>.</summary>
    public static string StateText(AlertState state) => state.ToString().ToLowerInvariant();

    public static string StateBadge(AlertState state) => state switch
    {
        AlertState.Open => "badge bad",
        AlertState.Acknowledged => "badge warn",
        _ => "badge ok",
    };

    public static string SeverityText(AlertSeverity severity) => severity.ToString().ToLowerInvariant();

    public static string SeverityBadge(AlertSeverity severity) => severity == AlertSeverity.Critical ? "badge bad" : "badge warn";

    public static string AuthorityText(Authority authority) => authority.ToString().ToLowerInvariant();

    /// <summary>"2026-12-03 15:20:26 UTC": what people read.</summary>
    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC";

    /// <summary>"2026-12-03" (UTC).</summary>
    public static string Date(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>"15:20:26" (UTC).</summary>
    public static string TimeOfDay(DateTimeOffset time) => time.UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture);

    /// <summary>ISO 8601 UTC with milliseconds: for datetime attributes and the plot contract.</summary>
    public static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static string UnixMs(DateTimeOffset time) => time.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);

    public static string Percent(double share) => share.ToString("0.#%", CultureInfo.InvariantCulture);

    public static string Number(double? value) => value is { } v ? v.ToString("0.####", CultureInfo.InvariantCulture) : "—";

    public static string Score(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    /// <summary>"physics", or "pca 20261203-1" for a learned model with its version.</summary>
    public static string Detector(DriftAlert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        return alert.ModelVersion is { Length: > 0 } version ? $"{alert.Detector} {version}" : alert.Detector;
    }

    /// <summary>The signal ids the alert's plot shows: contributors without a model feature's suffix, largest share first.</summary>
    public static IReadOnlyList<string> PlotSignals(DriftAlert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        return [.. alert.Contributors.Select(c => SignalOf(c.Signal)).Distinct(StringComparer.Ordinal)];
    }

    /// <summary>The plot's range around the episode: the alert rules' plot margin (5 min by default) either side, as the alert's own plot link.</summary>
    public static (DateTimeOffset From, DateTimeOffset To) PlotRange(DriftAlert alert, TimeSpan margin)
    {
        ArgumentNullException.ThrowIfNull(alert);
        return (alert.Onset - margin, alert.LastSeen + margin);
    }

    // Model features are "signalId:residual" or "signalId:value" (ModelCard.Features, AlertPlotLink); the plot takes signal ids.
    private static string SignalOf(string feature)
    {
        foreach (var suffix in (ReadOnlySpan<string>)[":residual", ":value"])
        {
            if (feature.EndsWith(suffix, StringComparison.Ordinal))
            {
                return feature[..^suffix.Length];
            }
        }

        return feature;
    }
}
