using CsCheck;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Tests.Encoding;

/// <summary>The standard NodeId text form (OPC 10000-6 §5.3.1.10 / §5.1.12): <c>ns=&lt;index&gt;;&lt;type&gt;=&lt;value&gt;</c>.</summary>
public sealed class NodeIdTextTests
{
    [Fact]
    public void Parses_a_string_identifier_with_a_namespace()
    {
        var id = NodeId.Parse("ns=2;s=Line.Speed");
        Assert.Equal(2, id.NamespaceIndex);
        Assert.Equal(IdType.String, id.IdType);
        Assert.Equal("Line.Speed", id.StringId);
        Assert.Equal(new NodeId("Line.Speed", 2), id);
    }

    [Fact]
    public void Parses_a_numeric_identifier_in_namespace_zero()
    {
        var id = NodeId.Parse("i=2258");
        Assert.Equal(0, id.NamespaceIndex);
        Assert.Equal(IdType.Numeric, id.IdType);
        Assert.Equal(2258u, id.NumericId);
        Assert.Equal(new NodeId(2258), id);
    }

    [Fact]
    public void Parses_a_guid_identifier()
    {
        // Example from OPC 10000-6 §5.3.1.10.
        var id = NodeId.Parse("ns=1;g=09087e75-8e5e-499b-954f-f2a9603db28a");
        Assert.Equal(IdType.Guid, id.IdType);
        Assert.Equal(new Guid("09087e75-8e5e-499b-954f-f2a9603db28a"), id.GuidId);
        Assert.Equal(1, id.NamespaceIndex);
        Assert.Equal(id, NodeId.Parse("ns=1;g=09087E75-8E5E-499B-954F-F2A9603DB28A"));
    }

    [Fact]
    public void Parses_an_opaque_base64_identifier()
    {
        // Example from OPC 10000-6 §5.3.1.10.
        var id = NodeId.Parse("ns=1;b=M/RbKBsRVkePCePcx24oRA==");
        Assert.Equal(IdType.Opaque, id.IdType);
        Assert.Equal(Convert.FromBase64String("M/RbKBsRVkePCePcx24oRA=="), id.OpaqueId);
        Assert.Equal(16, id.OpaqueId.Length);
    }

    [Theory]
    [InlineData("i=13", 0, "13")]
    [InlineData("ns=10;s=Hello:World", 10, "Hello:World")]
    [InlineData("ns=65535;i=4294967295", 65535, "4294967295")]
    [InlineData("ns=1;s=a;b=c", 1, "a;b=c")]
    [InlineData("s=ns=3;i=4", 0, "ns=3;i=4")]
    [InlineData("ns=1;s= spaced out ", 1, " spaced out ")]
    [InlineData("ns=1;s=水Boy", 1, "水Boy")]
    public void Parses_the_identifier_after_the_first_type_prefix(string text, int ns, string identifier)
    {
        var id = NodeId.Parse(text);
        Assert.Equal(ns, id.NamespaceIndex);
        Assert.Equal(identifier, Convert.ToString(id.Identifier, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("i=2258", "i=2258")]
    [InlineData("ns=0;i=2258", "i=2258")]
    [InlineData("ns=2;s=Line.Speed", "ns=2;s=Line.Speed")]
    [InlineData("ns=1;g=09087E75-8E5E-499B-954F-F2A9603DB28A", "ns=1;g=09087e75-8e5e-499b-954f-f2a9603db28a")]
    [InlineData("ns=1;b=M/RbKBsRVkePCePcx24oRA==", "ns=1;b=M/RbKBsRVkePCePcx24oRA==")]
    [InlineData("  ns=2;i=5", "ns=2;i=5")]
    [InlineData("ns=2;i=5  ", "ns=2;i=5")]
    public void Formats_the_canonical_form(string text, string canonical)
    {
        // §5.3.1.10: "If the index is 0 then the entire 'ns=0;' clause shall be omitted."
        Assert.Equal(canonical, NodeId.Parse(text).ToString());
    }

    [Fact]
    public void Null_NodeId_formats_as_i_0()
    {
        Assert.Equal("i=0", NodeId.Null.ToString());
        Assert.True(NodeId.Parse("i=0").IsNull);
        Assert.Equal(NodeId.Null, NodeId.Parse("i=0"));
    }

    [Fact]
    public void Format_then_parse_round_trips_every_NodeId()
    {
        // Empty string and opaque identifiers exist on the wire but have no text form (issue 15): see the test below.
        UaGen.NodeIds.Where(static id => !HasEmptyIdentifier(id)).Sample(static id =>
        {
            var text = id.ToString();
            Assert.True(NodeId.TryParse(text, out var parsed, out var error), $"'{text}' did not parse: {error}");
            Assert.Equal(id, parsed);
            Assert.Equal(text, parsed.ToString());
        }, iter: 2_000, threads: 1);
    }

    private static bool HasEmptyIdentifier(NodeId id) =>
        id.IdType == IdType.String ? id.StringId.Length == 0 : id.IdType == IdType.Opaque && id.OpaqueId.Length == 0;

    [Fact]
    public void An_empty_string_or_opaque_identifier_formats_to_text_that_is_refused_not_to_another_node()
    {
        foreach (var id in new[] { new NodeId("", 1), new NodeId([], 1), new NodeId("", 0) })
        {
            var text = id.ToString();
            Assert.False(NodeId.TryParse(text, out _, out var error), $"'{text}' parsed");
            Assert.Contains("is empty", error, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("", "empty text")]
    [InlineData("   ", "empty text")]
    [InlineData("ns=2", "namespace index must be followed by ';'")]
    [InlineData("ns=abc;i=1", "namespace index 'abc' is not a number from 0 to 65535")]
    [InlineData("ns=65536;i=1", "namespace index '65536' is not a number from 0 to 65535")]
    [InlineData("ns=-1;i=1", "namespace index '-1' is not a number from 0 to 65535")]
    [InlineData("ns=;i=1", "namespace index '' is not a number from 0 to 65535")]
    [InlineData("i=abc", "'abc' is not a 32-bit unsigned number")]
    [InlineData("i=4294967296", "'4294967296' is not a 32-bit unsigned number")]
    [InlineData("i=-1", "'-1' is not a 32-bit unsigned number")]
    [InlineData("i=", "the identifier after 'i=' is empty")]
    [InlineData("i=  ", "the identifier after 'i=' is empty")]
    [InlineData("ns=1;i=", "the identifier after 'i=' is empty")]
    [InlineData("ns=1;s=", "the identifier after 's=' is empty")]
    [InlineData("s=", "the identifier after 's=' is empty")]
    [InlineData("ns=1;g=", "the identifier after 'g=' is empty")]
    [InlineData("ns=1;b=", "the identifier after 'b=' is empty")]
    [InlineData("ns=1;b= ", "the identifier after 'b=' is empty")]
    [InlineData("ns=1;g=not-a-guid", "'not-a-guid' is not a GUID")]
    [InlineData("ns=1;b=***", "'***' is not base64")]
    [InlineData("x=1", "unknown identifier type 'x' (expected i, s, g or b)")]
    [InlineData("ns=1;", "expected i=, s=, g= or b= after the namespace")]
    [InlineData("2258", "expected i=, s=, g= or b= after the namespace")]
    [InlineData("ns=1;i", "expected i=, s=, g= or b= after the namespace")]
    public void Bad_text_fails_with_a_message_that_names_the_problem(string text, string problem)
    {
        var e = Assert.Throws<FormatException>(() => NodeId.Parse(text));
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
        Assert.Contains("is not a NodeId", e.Message, StringComparison.Ordinal);

        Assert.False(NodeId.TryParse(text, out var id, out var error));
        Assert.Equal(problem, error);
        Assert.Equal(NodeId.Null, id);
        Assert.False(NodeId.TryParse(text, out _));
    }

    [Fact]
    public void Null_text_does_not_parse()
    {
        Assert.False(NodeId.TryParse(null, out _, out var error));
        Assert.Equal("empty text", error);
        Assert.Throws<FormatException>(() => NodeId.Parse(null!));
    }

    [Fact]
    public void Opaque_NodeIds_compare_by_content()
    {
        var a = new NodeId(new byte[] { 1, 2, 3 }, 1);
        var b = NodeId.Parse("ns=1;b=" + Convert.ToBase64String(new byte[] { 1, 2, 3 }));
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, new NodeId(new byte[] { 1, 2, 4 }, 1));
    }

    [Fact]
    public void Identifiers_of_different_types_are_different_NodeIds()
    {
        Assert.NotEqual(NodeId.Parse("ns=1;i=1"), NodeId.Parse("ns=1;s=1"));
        Assert.NotEqual(NodeId.Parse("ns=1;i=1"), NodeId.Parse("ns=2;i=1"));
    }

    [Fact]
    public void ExpandedNodeId_text_puts_svr_then_nsu_then_the_identifier()
    {
        // §5.3.1.11: svr=<serverindex>;nsu=<uri>;<type>=<value>; the namespace index is not present with a URI.
        Assert.Equal("svr=2;nsu=urn:x;s=Speed", new ExpandedNodeId(new NodeId("Speed", 4), "urn:x", 2).ToString());
        Assert.Equal("nsu=urn:x;i=7", new ExpandedNodeId(new NodeId(7), "urn:x").ToString());
        Assert.Equal("ns=4;i=7", new ExpandedNodeId(new NodeId(7, 4)).ToString());
    }

    [Theory]
    [InlineData("2:Speed", 2, "Speed")]
    [InlineData("Speed", 0, "Speed")]
    [InlineData("0:Speed", 0, "Speed")]
    [InlineData("a:b", 0, "a:b")]
    public void QualifiedName_text_form(string text, int ns, string name)
    {
        var q = QualifiedName.Parse(text);
        Assert.Equal(ns, q.NamespaceIndex);
        Assert.Equal(name, q.Name);
        Assert.Equal(q, QualifiedName.Parse(q.ToString()));
    }
}
