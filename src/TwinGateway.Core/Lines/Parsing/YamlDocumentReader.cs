using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace TwinGateway.Core.Lines.Parsing;

/// <summary>
/// Loads a YAML text into YamlDotNet's representation model, which keeps the start mark (line, column) of every node,
/// and turns every way the YAML layer can fail into one positioned message. YAML-level problems stop the load: the
/// parser cannot go on after them, so they come one at a time; everything after the YAML layer is reported all at once.
/// </summary>
internal static class YamlDocumentReader
{
    public static YamlNode? Load(string text, Action<Mark, string> error)
    {
        var parser = new TrackingParser(new Parser(new StringReader(text)));
        var stream = new YamlStream();
        try
        {
            stream.Load(parser);
        }
        catch (YamlException e)
        {
            if (parser.UndefinedAlias is { } alias)
            {
                error(alias.Start, $"YAML alias '*{alias.Name}' refers to no anchor: define '&{alias.Name}' on a value before this point");
            }
            else
            {
                error(e.Start, Describe(e, text));
            }

            return null;
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet 18.1 throws this from its scanner on some malformed flow collections
            // (for example "a: [1, 2" followed by another key): the last event it produced is the best position we have.
            error(parser.LastEnd, "YAML syntax error: the parser could not continue after this point (an unclosed '[', '{' or quote?)");
            return null;
        }

        if (stream.Documents.Count == 0)
        {
            error(new Mark(0, 1, 1), "the file is empty: expected a line definition (a mapping with id, name, controllers, stations, signals, topology)");
            return null;
        }

        if (stream.Documents.Count > 1)
        {
            error(stream.Documents[1].RootNode.Start, "a line file holds one YAML document; found a second one (remove the '---' separator, or put each line in its own file)");
            return null;
        }

        return stream.Documents[0].RootNode;
    }

    private static string Describe(YamlException e, string text)
    {
        if (e.Message.StartsWith("Duplicate key", StringComparison.Ordinal))
        {
            var start = (int)Math.Clamp(e.Start.Index, 0, text.Length);
            var end = (int)Math.Clamp(e.End.Index, start, text.Length);
            var key = text[start..end].Trim();
            return key.Length == 0 ? "duplicate key" : $"duplicate key '{key}' (a mapping names each key once)";
        }

        return $"YAML syntax error: {e.Message}";
    }

    /// <summary>Passes events through, remembering where the last one ended and the first alias to an undefined anchor
    /// (YamlDotNet reports that one at the start of the document).</summary>
    private sealed class TrackingParser(IParser inner) : IParser
    {
        private readonly HashSet<string> _anchors = new(StringComparer.Ordinal);

        public ParsingEvent? Current => inner.Current;

        public Mark LastEnd { get; private set; } = new(0, 1, 1);

        public (Mark Start, string Name)? UndefinedAlias { get; private set; }

        public bool MoveNext()
        {
            var moved = inner.MoveNext();
            switch (inner.Current)
            {
                case NodeEvent { Anchor.IsEmpty: false } node:
                    _anchors.Add(node.Anchor.Value);
                    break;
                case AnchorAlias alias when UndefinedAlias is null && !_anchors.Contains(alias.Value.Value):
                    UndefinedAlias = (alias.Start, alias.Value.Value);
                    break;
                default:
                    break;
            }

            if (inner.Current is { } current)
            {
                LastEnd = current.End;
            }

            return moved;
        }
    }
}
