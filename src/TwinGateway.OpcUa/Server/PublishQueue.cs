using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Server;

/// <summary>A Publish request parked until a subscription has something to send (OPC 10000-4 §5.13.5).</summary>
internal sealed class PendingPublish(PublishRequest request, long deadlineTicks, ServerConnection connection)
{
    public PublishRequest Request { get; } = request;

    /// <summary>The connection the request came on; a request whose connection closed can no longer be answered.</summary>
    public ServerConnection Connection { get; } = connection;

    public long DeadlineTicks { get; } = deadlineTicks;

    public StatusCode[] AcknowledgementResults { get; set; } = [];

    public TaskCompletionSource<IServiceResponse> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>The session's parked Publish requests, oldest first.</summary>
internal sealed class PublishQueue
{
    private readonly Lock _sync = new();
    private readonly LinkedList<PendingPublish> _queue = new();

    public int Count
    {
        get
        {
            lock (_sync)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>Parks a request; returns the oldest one when the queue was full (it must be answered BadTooManyPublishRequests).</summary>
    public PendingPublish? Enqueue(PendingPublish publish, int max)
    {
        lock (_sync)
        {
            _queue.AddLast(publish);
            if (_queue.Count > max)
            {
                var oldest = _queue.First!.Value;
                _queue.RemoveFirst();
                return oldest;
            }
        }

        return null;
    }

    public bool TryDequeue(out PendingPublish publish)
    {
        lock (_sync)
        {
            while (_queue.First is { } first)
            {
                _queue.RemoveFirst();
                // Requests left behind by a dropped connection would swallow notifications: skip them.
                if (!first.Value.Completion.Task.IsCompleted && first.Value.Connection.IsOpen)
                {
                    publish = first.Value;
                    return true;
                }
            }
        }

        publish = null!;
        return false;
    }

    /// <summary>Removes requests past their deadline (answered BadTimeout by the caller).</summary>
    public List<PendingPublish> RemoveExpired(long nowTicks)
    {
        var expired = new List<PendingPublish>();
        lock (_sync)
        {
            var node = _queue.First;
            while (node is not null)
            {
                var next = node.Next;
                if (node.Value.DeadlineTicks <= nowTicks || node.Value.Completion.Task.IsCompleted)
                {
                    _queue.Remove(node);
                    if (!node.Value.Completion.Task.IsCompleted)
                    {
                        expired.Add(node.Value);
                    }
                }

                node = next;
            }
        }

        return expired;
    }

    public List<PendingPublish> DrainAll()
    {
        lock (_sync)
        {
            var all = _queue.ToList();
            _queue.Clear();
            return all;
        }
    }
}
