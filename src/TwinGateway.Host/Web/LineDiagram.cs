using TwinGateway.Core.Lines;

namespace TwinGateway.Host.Web;

/// <summary>
/// Where a line page draws each station: one column per step along the part flow (a station's column is the longest
/// path to it from a station nothing feeds), stations of one column one under the other in definition order.
/// </summary>
internal sealed record LineDiagram(int Width, int Height, IReadOnlyList<LineDiagram.Box> Boxes, IReadOnlyList<LineDiagram.Arrow> Arrows)
{
    public const int BoxWidth = 150;
    public const int BoxHeight = 56;
    private const int ColumnGap = 40;
    private const int RowGap = 20;
    private const int Margin = 8;

    public sealed record Box(StationDefinition Station, int X, int Y);

    public sealed record Arrow(string From, string To, int X1, int Y1, int X2, int Y2);

    public static LineDiagram Of(LineDefinition line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var column = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var s in line.Stations)
        {
            column[s.Id] = 0;
        }

        // Longest path by relaxation; bounded by the station count, so a cycle in the flow cannot loop forever.
        for (var pass = 0; pass < line.Stations.Length; pass++)
        {
            var moved = false;
            foreach (var edge in line.Topology)
            {
                if (column.TryGetValue(edge.From, out var from) && column.TryGetValue(edge.To, out var to) && to < from + 1 && from + 1 < line.Stations.Length)
                {
                    column[edge.To] = from + 1;
                    moved = true;
                }
            }

            if (!moved)
            {
                break;
            }
        }

        var rows = new Dictionary<int, int>();
        var boxes = new List<Box>();
        foreach (var s in line.Stations)
        {
            var c = column[s.Id];
            var r = rows.GetValueOrDefault(c);
            rows[c] = r + 1;
            boxes.Add(new Box(s, Margin + (c * (BoxWidth + ColumnGap)), Margin + (r * (BoxHeight + RowGap))));
        }

        var at = boxes.ToDictionary(b => b.Station.Id, StringComparer.Ordinal);
        var arrows = line.Topology
            .Where(e => at.ContainsKey(e.From) && at.ContainsKey(e.To))
            .Select(e =>
            {
                var a = at[e.From];
                var b = at[e.To];
                return new Arrow(e.From, e.To, a.X + BoxWidth, a.Y + (BoxHeight / 2), b.X, b.Y + (BoxHeight / 2));
            })
            .ToArray();
        var columns = column.Values.DefaultIfEmpty(0).Max() + 1;
        var height = rows.Values.DefaultIfEmpty(1).Max();
        return new LineDiagram((2 * Margin) + (columns * BoxWidth) + ((columns - 1) * ColumnGap), (2 * Margin) + (height * BoxHeight) + ((height - 1) * RowGap), boxes, arrows);
    }
}
