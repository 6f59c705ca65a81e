using System.Security.Cryptography;
using TwinGateway.OpcUa.Server.AddressSpace;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Server;

public sealed partial class UaServer
{
    private BrowseResponse Browse(Session session, BrowseRequest request)
    {
        var nodes = request.NodesToBrowse ?? [];
        Limit(nodes.Length, Options.MaxNodesPerBrowse, "Browse");
        if (request.View is { ViewId.IsNull: false } view)
        {
            throw new ServiceResultException(StatusCodes.BadViewIdUnknown, $"view {view.ViewId} does not exist (this server has no views)");
        }

        var max = request.RequestedMaxReferencesPerNode == 0 ? (uint)Options.MaxReferencesPerNode : Math.Min(request.RequestedMaxReferencesPerNode, (uint)Options.MaxReferencesPerNode);
        return new BrowseResponse { Results = [.. nodes.Select(d => BrowseOne(session, d, max))] };
    }

    private BrowseResult BrowseOne(Session session, BrowseDescription description, uint max)
    {
        var node = AddressSpace.Find(description.NodeId);
        if (node is null)
        {
            return new BrowseResult { StatusCode = StatusCodes.BadNodeIdUnknown };
        }

        if (description.BrowseDirection is < BrowseDirection.Forward or > BrowseDirection.Both)
        {
            return new BrowseResult { StatusCode = StatusCodes.BadBrowseDirectionInvalid };
        }

        var referenceType = description.ReferenceTypeId;
        if (!referenceType.IsNull && AddressSpace.Find(referenceType) is not ReferenceTypeNode)
        {
            return new BrowseResult { StatusCode = StatusCodes.BadReferenceTypeIdInvalid };
        }

        var found = new List<ReferenceDescription>();
        foreach (var reference in node.References)
        {
            if ((description.BrowseDirection == BrowseDirection.Forward && reference.IsInverse)
                || (description.BrowseDirection == BrowseDirection.Inverse && !reference.IsInverse))
            {
                continue;
            }

            if (!referenceType.IsNull && !(description.IncludeSubtypes
                    ? AddressSpace.IsSubtypeOf(reference.ReferenceTypeId, referenceType)
                    : reference.ReferenceTypeId == referenceType))
            {
                continue;
            }

            var target = reference.TargetId.IsLocal ? AddressSpace.Find(reference.TargetId.NodeId) : null;
            if (description.NodeClassMask != 0 && (target is null || (description.NodeClassMask & (uint)target.NodeClass) == 0))
            {
                continue;
            }

            found.Add(Describe(reference, target, description.ResultMask));
        }

        return Page(session, [.. found], max);
    }

    private static ReferenceDescription Describe(ReferenceEntry reference, Node? target, uint mask)
    {
        var description = new ReferenceDescription { NodeId = reference.TargetId };
        if ((mask & (uint)BrowseResultMask.ReferenceTypeId) != 0)
        {
            description.ReferenceTypeId = reference.ReferenceTypeId;
        }

        if ((mask & (uint)BrowseResultMask.IsForward) != 0)
        {
            description.IsForward = !reference.IsInverse;
        }

        if (target is null)
        {
            return description;
        }

        if ((mask & (uint)BrowseResultMask.NodeClass) != 0)
        {
            description.NodeClass = target.NodeClass;
        }

        if ((mask & (uint)BrowseResultMask.BrowseName) != 0)
        {
            description.BrowseName = target.BrowseName;
        }

        if ((mask & (uint)BrowseResultMask.DisplayName) != 0)
        {
            description.DisplayName = target.DisplayName;
        }

        if ((mask & (uint)BrowseResultMask.TypeDefinition) != 0 && target.NodeClass is NodeClass.Object or NodeClass.Variable)
        {
            var hasTypeDefinition = new NodeId(ReferenceTypeIds.HasTypeDefinition);
            foreach (var r in target.References)
            {
                if (!r.IsInverse && r.ReferenceTypeId == hasTypeDefinition)
                {
                    description.TypeDefinition = r.TargetId;
                    break;
                }
            }
        }

        return description;
    }

    /// <summary>Returns up to <paramref name="max"/> references and keeps the rest behind a continuation point.</summary>
    private BrowseResult Page(Session session, ReferenceDescription[] references, uint max)
    {
        if (references.Length <= max)
        {
            return new BrowseResult { StatusCode = StatusCodes.Good, References = references };
        }

        var key = RandomNumberGenerator.GetBytes(16);
        if (!session.TryAddContinuation(Convert.ToBase64String(key), new BrowseContinuation(references[(int)max..], max), Options.MaxBrowseContinuationPoints))
        {
            return new BrowseResult { StatusCode = StatusCodes.BadNoContinuationPoints };
        }

        return new BrowseResult { StatusCode = StatusCodes.Good, References = references[..(int)max], ContinuationPoint = key };
    }

    private BrowseNextResponse BrowseNext(Session session, BrowseNextRequest request)
    {
        var points = request.ContinuationPoints ?? [];
        Limit(points.Length, Options.MaxNodesPerBrowse, "BrowseNext");
        var results = new BrowseResult[points.Length];
        for (var i = 0; i < points.Length; i++)
        {
            var continuation = points[i] is { } p ? session.TakeContinuation(Convert.ToBase64String(p)) : null;
            if (continuation is null)
            {
                results[i] = new BrowseResult { StatusCode = StatusCodes.BadContinuationPointInvalid };
                continue;
            }

            results[i] = request.ReleaseContinuationPoints
                ? new BrowseResult { StatusCode = StatusCodes.Good }
                : Page(session, continuation.Remaining, continuation.MaxPerCall);
        }

        return new BrowseNextResponse { Results = results };
    }

    private TranslateBrowsePathsToNodeIdsResponse Translate(TranslateBrowsePathsToNodeIdsRequest request)
    {
        var paths = request.BrowsePaths ?? [];
        Limit(paths.Length, Options.MaxNodesPerTranslateBrowsePaths, "TranslateBrowsePathsToNodeIds");
        return new TranslateBrowsePathsToNodeIdsResponse { Results = [.. paths.Select(TranslateOne)] };
    }

    private BrowsePathResult TranslateOne(BrowsePath path)
    {
        if (AddressSpace.Find(path.StartingNode) is null)
        {
            return new BrowsePathResult { StatusCode = StatusCodes.BadNodeIdUnknown };
        }

        var elements = path.RelativePath.Elements ?? [];
        if (elements.Length == 0)
        {
            return new BrowsePathResult { StatusCode = StatusCodes.BadNothingToDo };
        }

        var current = new List<NodeId> { path.StartingNode };
        foreach (var element in elements)
        {
            if (element.TargetName.Name is null)
            {
                return new BrowsePathResult { StatusCode = StatusCodes.BadBrowseNameInvalid };
            }

            var referenceType = element.ReferenceTypeId.IsNull ? new NodeId(ReferenceTypeIds.HierarchicalReferences) : element.ReferenceTypeId;
            var next = new List<NodeId>();
            foreach (var id in current)
            {
                foreach (var reference in AddressSpace.Find(id)?.References ?? [])
                {
                    if (reference.IsInverse != element.IsInverse || !reference.TargetId.IsLocal)
                    {
                        continue;
                    }

                    if (!(element.IncludeSubtypes ? AddressSpace.IsSubtypeOf(reference.ReferenceTypeId, referenceType) : reference.ReferenceTypeId == referenceType))
                    {
                        continue;
                    }

                    if (AddressSpace.Find(reference.TargetId.NodeId) is { } target && target.BrowseName == element.TargetName && !next.Contains(target.NodeId))
                    {
                        next.Add(target.NodeId);
                    }
                }
            }

            if (next.Count == 0)
            {
                return new BrowsePathResult { StatusCode = StatusCodes.BadNoMatch };
            }

            current = next;
        }

        return new BrowsePathResult
        {
            StatusCode = StatusCodes.Good,
            Targets = [.. current.Select(id => new BrowsePathTarget { TargetId = id, RemainingPathIndex = uint.MaxValue })],
        };
    }
}
