namespace TwinGateway.OpcUa.Channel;

/// <summary>Security policy URIs (OPC 10000-7). This stack implements None today; the channel is shaped for the rest.</summary>
public static class SecurityPolicies
{
    public const string None = "http://opcfoundation.org/UA/SecurityPolicy#None";
    public const string Basic256Sha256 = "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256";
    public const string Aes128Sha256RsaOaep = "http://opcfoundation.org/UA/SecurityPolicy#Aes128_Sha256_RsaOaep";
    public const string Aes256Sha256RsaPss = "http://opcfoundation.org/UA/SecurityPolicy#Aes256_Sha256_RsaPss";

    /// <summary>The binary transport profile URI endpoints advertise.</summary>
    public const string UaTcpBinaryTransport = "http://opcfoundation.org/UA-Profile/Transport/uatcp-uasc-uabinary";
}
