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

    private async Task RepublishRangeAsync(ClientSecureChannel channel, Subscription subscription, uint first, uint last, CancellationToken token)
    {
        var count = 0;
        for (var sequence = first; ; sequence = NextSequence(sequence))
        {
            if (++count > MaxRepublishPerGap)
            {
                ReportGap(subscription, sequence, last, $"more than {MaxRepublishPerGap} messages missing; not republished");
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
                Deliver(subscription, response.NotificationMessage, republished: true);
                _acknowledgements.Enqueue(new SubscriptionAcknowledgement { SubscriptionId = subscription.Id, SequenceNumber = sequence });
            }
            catch (ServiceResultException ex) when (ex.StatusCode.Code is StatusCodes.BadMessageNotAvailable or StatusCodes.BadSequenceNumberUnknown)
            {
                ReportGap(subscription, sequence, sequence, $"the server no longer holds message {sequence} ({ex.StatusCode.Name})");
            }

            if (sequence == last)
            {
                return;
            }
        }
    }

    private void ReportGap(Subscription subscription, uint first, uint last, string reason)
    {
        Log.Gap(_logger, EndpointUrl, subscription.Id, first, last, reason);
        subscription.Deliver(new NotificationGap(subscription, first, last, reason));
    }
}
