using TwinGateway.OpcUa.Channel;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Client;

/// <summary>
/// Missing notifications: sequence-number arithmetic, Republish of what the server still holds, and a
/// <see cref="NotificationGap"/> for what it does not.
/// </summary>
public sealed partial class OpcUaClient
{
    /// <summary>Beyond this many missing messages we report a gap instead of asking for each one.</summary>
    private const int MaxRepublishPerGap = 256;

    /// <summary>Sequence numbers run 1..UInt32.MaxValue and wrap to 1, never 0 (OPC 10000-4 §7.25).</summary>
    internal static uint NextSequence(uint sequence) => sequence == uint.MaxValue ? 1 : sequence + 1;

    internal static uint PreviousSequence(uint sequence) => sequence <= 1 ? uint.MaxValue : sequence - 1;

    /// <summary>True when <paramref name="a"/> comes after <paramref name="b"/>, across the wrap.</summary>
    internal static bool IsNewer(uint a, uint b)
    {
        if (a == b)
        {
            return false;
        }

        var forward = a > b ? a - b : (uint.MaxValue - b) + a; // zero is skipped on the wrap
        return forward < uint.MaxValue / 2;
    }

    /// <summary>
    /// Republishes <paramref name="first"/>..<paramref name="last"/> in order. Consecutive messages the server no longer
    /// holds become one <see cref="NotificationGap"/>, from the last message before them to the first after them (the
    /// next one republished, or <paramref name="next"/>: the publish time of the message that revealed the gap).
    /// </summary>
    private async Task RepublishRangeAsync(ClientSecureChannel channel, Subscription subscription, uint first, uint last, DateTimeOffset? next, CancellationToken token)
    {
        var count = 0;
        uint? missingFrom = null;
        var missingTo = first;
        var missingWhy = "";
        for (var sequence = first; ; sequence = NextSequence(sequence))
        {
            if (++count > MaxRepublishPerGap)
            {
                var end = next ?? _time.GetUtcNow();
                if (missingFrom is { } from)
                {
                    ReportGap(subscription, from, missingTo, end, missingWhy);
                }

                ReportGap(subscription, sequence, last, end, $"more than {MaxRepublishPerGap} messages missing; not republished");
                return;
            }

            try
            {
                var response = (RepublishResponse)await channel.SendRequestAsync(new RepublishRequest
                {
                    RequestHeader = NewHeader(),
                    SubscriptionId = subscription.Id,
                    RetransmitSequenceNumber = sequence,
                }, _options.RequestTimeout, token).ConfigureAwait(false);
                MarkHeard();
                var published = AsUtc(response.NotificationMessage.PublishTime);
                if (missingFrom is { } from)
                {
                    ReportGap(subscription, from, missingTo, published, missingWhy);
                    missingFrom = null;
                }

                Deliver(subscription, response.NotificationMessage, republished: true);
                subscription.LastPublishTime = published;
                _acknowledgements.Enqueue(new SubscriptionAcknowledgement { SubscriptionId = subscription.Id, SequenceNumber = sequence });
            }
            catch (ServiceResultException ex) when (ex.StatusCode.Code is StatusCodes.BadMessageNotAvailable or StatusCodes.BadSequenceNumberUnknown)
            {
                missingFrom ??= sequence;
                missingTo = sequence;
                missingWhy = $"the server no longer holds them ({ex.StatusCode.Name})";
            }

            if (sequence == last)
            {
                if (missingFrom is { } from)
                {
                    ReportGap(subscription, from, missingTo, next ?? _time.GetUtcNow(), missingWhy);
                }

                return;
            }
        }
    }

    /// <summary>
    /// Reports messages <paramref name="first"/>..<paramref name="last"/> lost, from <paramref name="start"/> (the
    /// subscription's last publish time when not given) to <paramref name="end"/>.
    /// </summary>
    private void ReportGap(Subscription subscription, uint first, uint? last, DateTimeOffset end, string reason, DateTimeOffset? start = null)
    {
        var gap = new NotificationGap(subscription, first, last, start ?? subscription.LastPublishTime, end, reason);
        Log.Gap(_logger, EndpointUrl, subscription.Id, gap.MissingRange, (long)gap.Duration.TotalMilliseconds, gap.Start, gap.End, reason);
        subscription.Deliver(gap);
    }

    /// <summary>A publish time from the wire (UTC ticks; MinValue when the server sent none) as an offset.</summary>
    private static DateTimeOffset AsUtc(DateTime time) => new(DateTime.SpecifyKind(time, DateTimeKind.Utc), TimeSpan.Zero);
}
