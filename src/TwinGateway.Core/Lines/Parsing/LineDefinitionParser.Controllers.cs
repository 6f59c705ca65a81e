using System.Collections.Immutable;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace TwinGateway.Core.Lines.Parsing;

internal sealed partial class LineDefinitionParser
{
    private static readonly string[] ControllerFields = ["id", "endpointUrl", "credentialsRef"];

    private readonly Dictionary<string, YamlNode> _controllers = new(StringComparer.Ordinal);
    private ImmutableArray<ControllerDefinition> ParseControllers(FieldSet top)
    {
        var controllers = ImmutableArray.CreateBuilder<ControllerDefinition>();
        if (top.Require("controllers") is not { } section)
        {
            return controllers.ToImmutable();
        }

        if (section is YamlSequenceNode { Children.Count: 0 })
        {
            Error(section, "controllers", "a line needs at least one controller");
        }

        foreach (var (item, path) in Items(section, "controllers", "controllers"))
        {
            if (FieldSet.Open(this, item, path, "a controller", ControllerFields) is not { } fields)
            {
                continue;
            }

            var idNode = fields.Require("id");
            var id = idNode is null ? null : Identifier(idNode, fields.PathOf("id"), "controller id");
            if (id is not null && !Register(_controllers, id, idNode!, fields.PathOf("id"), "controller id", static n => n, idNode!))
            {
                id = null;
            }

            var url = fields.RequiredText("endpointUrl");
            if (url is not null && EndpointProblem(url) is { } problem)
            {
                Error(fields.Get("endpointUrl")!, fields.PathOf("endpointUrl"), problem);
                url = null;
            }

            var credentials = fields.OptionalText("credentialsRef");
            if (credentials is not null && !CredentialNamePattern().IsMatch(credentials))
            {
                Error(fields.Get("credentialsRef")!, fields.PathOf("credentialsRef"),
                    $"credentialsRef '{credentials}' must be the name of a credential in the gateway's secret store (letters, digits, '_', '-', '.', ':', '/'), never the credential itself");
            }

            if (id is not null && url is not null)
            {
                controllers.Add(new ControllerDefinition(id, url, credentials) { Source = Location(item) });
            }
        }

        return controllers.ToImmutable();
    }

    private static string? EndpointProblem(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || !string.Equals(uri.Scheme, "opc.tcp", StringComparison.OrdinalIgnoreCase))
        {
            return $"controller endpoint must be opc.tcp://host:port, found '{url}'";
        }

        return uri.Host.Length == 0 ? $"controller endpoint '{url}' names no host (expected opc.tcp://host:port)" : null;
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.:/-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex CredentialNamePattern();
}
