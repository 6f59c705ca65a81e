using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Client;

/// <summary>One reference found by browsing, with the node it points to.</summary>
public sealed record BrowsedReference(NodeId Parent, ReferenceDescription Reference)
{
    public NodeId NodeId => Reference.NodeId.NodeId;
}

public sealed partial class OpcUaClient
{
    /// <summary>
    /// Browses one node and follows continuation points with BrowseNext until every reference is read, so a folder of
    /// any size comes back whole. Throws with the node id and status when the node cannot be browsed.
    /// </summary>
    public async Task<IReadOnlyList<ReferenceDescription>> BrowseAsync(
        NodeId nodeId,
        BrowseDirection direction = BrowseDirection.Forward,
        NodeId? referenceTypeId = null,
        bool includeSubtypes = true,
        uint maxReferencesPerNode = 0,
        CancellationToken cancellationToken = default)
    {
        var response = await CallAsync<BrowseResponse>(new BrowseRequest
        {
            View = new ViewDescription(),
            RequestedMaxReferencesPerNode = maxReferencesPerNode,
            NodesToBrowse =
            [
                new BrowseDescription
                {
                    NodeId = nodeId,
                    BrowseDirection = direction,
                    ReferenceTypeId = referenceTypeId ?? new NodeId(ReferenceTypeIds.HierarchicalReferences),
                    IncludeSubtypes = includeSubtypes,
                    NodeClassMask = 0,
                    ResultMask = (uint)BrowseResultMask.All,
                },
            ],
        }, cancellationToken: cancellationToken).ConfigureAwait(false);
        var result = response.Results is [var r] ? r : throw new ServiceResultException(StatusCodes.BadUnknownResponse, $"Browse of {nodeId} returned no result");
        if (result.StatusCode.IsBad)
        {
            throw new ServiceResultException(result.StatusCode, $"cannot browse {nodeId}: {result.StatusCode.Name}");
        }

        var references = new List<ReferenceDescription>(result.References ?? []);
        var continuation = result.ContinuationPoint;
        var rounds = 0;
        while (continuation is { Length: > 0 })
        {
            if (++rounds > 100_000)
            {
                throw new ServiceResultException(StatusCodes.BadContinuationPointInvalid, $"browsing {nodeId} did not end after {rounds} BrowseNext calls");
            }

            var next = await CallAsync<BrowseNextResponse>(new BrowseNextRequest
            {
                ReleaseContinuationPoints = false,
                ContinuationPoints = [continuation],
            }, cancellationToken: cancellationToken).ConfigureAwait(false);
            var nextResult = next.Results is [var n] ? n : throw new ServiceResultException(StatusCodes.BadUnknownResponse, $"BrowseNext of {nodeId} returned no result");
            if (nextResult.StatusCode.IsBad)
            {
                throw new ServiceResultException(nextResult.StatusCode, $"BrowseNext of {nodeId} failed: {nextResult.StatusCode.Name}");
            }

            references.AddRange(nextResult.References ?? []);
            continuation = nextResult.ContinuationPoint;
        }

        return references;
    }

    /// <summary>Browses a tree breadth-first to <paramref name="maxDepth"/> levels (1 = the node's children).</summary>
    public async Task<IReadOnlyList<BrowsedReference>> BrowseTreeAsync(NodeId root, int maxDepth, uint maxReferencesPerNode = 0, CancellationToken cancellationToken = default)
    {
        var found = new List<BrowsedReference>();
        var seen = new HashSet<NodeId> { root };
        var level = new List<NodeId> { root };
        for (var depth = 0; depth < maxDepth && level.Count > 0; depth++)
        {
            var nextLevel = new List<NodeId>();
            foreach (var parent in level)
            {
                foreach (var reference in await BrowseAsync(parent, maxReferencesPerNode: maxReferencesPerNode, cancellationToken: cancellationToken).ConfigureAwait(false))
                {
                    found.Add(new BrowsedReference(parent, reference));
                    var child = reference.NodeId;
                    if (child.IsLocal && seen.Add(child.NodeId))
                    {
                        nextLevel.Add(child.NodeId);
                    }
                }
            }

            level = nextLevel;
        }

        return found;
    }

    /// <summary>Resolves browse paths such as <c>/Objects/2:Line/2:Speed</c> (OPC 10000-4 §5.8.4); one result per path.</summary>
    public async Task<IReadOnlyList<BrowsePathResult>> TranslateBrowsePathsAsync(IReadOnlyList<BrowsePath> paths, CancellationToken cancellationToken = default)
    {
        var response = await CallAsync<TranslateBrowsePathsToNodeIdsResponse>(new TranslateBrowsePathsToNodeIdsRequest
        {
            BrowsePaths = [.. paths],
        }, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.Results ?? [];
    }

    /// <summary>Builds a BrowsePath from a start node and browse names, following hierarchical references.</summary>
    public static BrowsePath MakeBrowsePath(NodeId start, params QualifiedName[] names) => new()
    {
        StartingNode = start,
        RelativePath = new RelativePath
        {
            Elements = [.. names.Select(n => new RelativePathElement
            {
                ReferenceTypeId = new NodeId(ReferenceTypeIds.HierarchicalReferences),
                IncludeSubtypes = true,
                IsInverse = false,
                TargetName = n,
            })],
        },
    };

    /// <summary>RegisterNodes: the server may return aliases that are faster to use in later calls.</summary>
    public async Task<NodeId[]> RegisterNodesAsync(IReadOnlyList<NodeId> nodes, CancellationToken cancellationToken = default)
    {
        var response = await CallAsync<RegisterNodesResponse>(new RegisterNodesRequest { NodesToRegister = [.. nodes] }, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.RegisteredNodeIds ?? [];
    }

    public async Task UnregisterNodesAsync(IReadOnlyList<NodeId> nodes, CancellationToken cancellationToken = default) =>
        await CallAsync<UnregisterNodesResponse>(new UnregisterNodesRequest { NodesToUnregister = [.. nodes] }, cancellationToken: cancellationToken).ConfigureAwait(false);
}
