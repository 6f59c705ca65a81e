using TwinGateway.OpcUa.Encoding;

namespace TwinGateway.OpcUa.Types;

/// <summary>A service request: every one starts with a RequestHeader (OPC 10000-4 §7.33).</summary>
public interface IServiceRequest : IEncodeable
{
    RequestHeader RequestHeader { get; set; }
}

/// <summary>A service response: every one starts with a ResponseHeader (OPC 10000-4 §7.34).</summary>
public interface IServiceResponse : IEncodeable
{
    ResponseHeader ResponseHeader { get; set; }
}

public sealed partial class ServiceFault : IServiceResponse;
public sealed partial class OpenSecureChannelRequest : IServiceRequest;
public sealed partial class OpenSecureChannelResponse : IServiceResponse;
public sealed partial class CloseSecureChannelRequest : IServiceRequest;
public sealed partial class CloseSecureChannelResponse : IServiceResponse;
public sealed partial class GetEndpointsRequest : IServiceRequest;
public sealed partial class GetEndpointsResponse : IServiceResponse;
public sealed partial class FindServersRequest : IServiceRequest;
public sealed partial class FindServersResponse : IServiceResponse;
public sealed partial class CreateSessionRequest : IServiceRequest;
public sealed partial class CreateSessionResponse : IServiceResponse;
public sealed partial class ActivateSessionRequest : IServiceRequest;
public sealed partial class ActivateSessionResponse : IServiceResponse;
public sealed partial class CloseSessionRequest : IServiceRequest;
public sealed partial class CloseSessionResponse : IServiceResponse;
public sealed partial class CancelRequest : IServiceRequest;
public sealed partial class CancelResponse : IServiceResponse;
public sealed partial class BrowseRequest : IServiceRequest;
public sealed partial class BrowseResponse : IServiceResponse;
public sealed partial class BrowseNextRequest : IServiceRequest;
public sealed partial class BrowseNextResponse : IServiceResponse;
public sealed partial class TranslateBrowsePathsToNodeIdsRequest : IServiceRequest;
public sealed partial class TranslateBrowsePathsToNodeIdsResponse : IServiceResponse;
public sealed partial class RegisterNodesRequest : IServiceRequest;
public sealed partial class RegisterNodesResponse : IServiceResponse;
public sealed partial class UnregisterNodesRequest : IServiceRequest;
public sealed partial class UnregisterNodesResponse : IServiceResponse;
public sealed partial class ReadRequest : IServiceRequest;
public sealed partial class ReadResponse : IServiceResponse;
public sealed partial class WriteRequest : IServiceRequest;
public sealed partial class WriteResponse : IServiceResponse;
public sealed partial class CallRequest : IServiceRequest;
public sealed partial class CallResponse : IServiceResponse;
public sealed partial class CreateSubscriptionRequest : IServiceRequest;
public sealed partial class CreateSubscriptionResponse : IServiceResponse;
public sealed partial class ModifySubscriptionRequest : IServiceRequest;
public sealed partial class ModifySubscriptionResponse : IServiceResponse;
public sealed partial class DeleteSubscriptionsRequest : IServiceRequest;
public sealed partial class DeleteSubscriptionsResponse : IServiceResponse;
public sealed partial class SetPublishingModeRequest : IServiceRequest;
public sealed partial class SetPublishingModeResponse : IServiceResponse;
public sealed partial class TransferSubscriptionsRequest : IServiceRequest;
public sealed partial class TransferSubscriptionsResponse : IServiceResponse;
public sealed partial class CreateMonitoredItemsRequest : IServiceRequest;
public sealed partial class CreateMonitoredItemsResponse : IServiceResponse;
public sealed partial class ModifyMonitoredItemsRequest : IServiceRequest;
public sealed partial class ModifyMonitoredItemsResponse : IServiceResponse;
public sealed partial class DeleteMonitoredItemsRequest : IServiceRequest;
public sealed partial class DeleteMonitoredItemsResponse : IServiceResponse;
public sealed partial class SetMonitoringModeRequest : IServiceRequest;
public sealed partial class SetMonitoringModeResponse : IServiceResponse;
public sealed partial class SetTriggeringRequest : IServiceRequest;
public sealed partial class SetTriggeringResponse : IServiceResponse;
public sealed partial class PublishRequest : IServiceRequest;
public sealed partial class PublishResponse : IServiceResponse;
public sealed partial class RepublishRequest : IServiceRequest;
public sealed partial class RepublishResponse : IServiceResponse;
