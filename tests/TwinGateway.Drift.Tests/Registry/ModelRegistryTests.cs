using System.Collections.Immutable;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using TwinGateway.Drift.Models;
using TwinGateway.Drift.Registry;
using TwinGateway.Drift.Tests.Alerts;

namespace TwinGateway.Drift.Tests.Registry;

public sealed class ModelRegistryTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 3, 8, 0, 0, TimeSpan.Zero);
    private readonly TempFolder _folder = new();
    private readonly FakeTimeProvider _time = new(T0);

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Versions_increment_per_line_and_the_exported_bytes_carry_the_final_card()
    {
        var exported = new List<ModelCard>();
        byte[] Export(ModelCard card)
        {
            exported.Add(card);
            return Encoding.UTF8.GetBytes(card.ToJson());
        }

        using (var registry = Open())
        {
            Assert.Equal("1", registry.Register("press-1", Card(""), Export, "alice").Version);
            Assert.Equal("2", registry.Register("press-1", Card("press-1"), Export, "alice").Version);
            var other = registry.Register("oven-2", Card(""), Export, "bob");
            Assert.Equal("1", other.Version);
            Assert.Equal(Path.Combine(_folder.Path, "models", "oven-2", "1.onnx"), other.File);
        }

        Assert.Equal([("press-1", "1"), ("press-1", "2"), ("oven-2", "1")], exported.Select(c => (c.Line, c.Version)));
        using var reopened = Open();
        Assert.Equal(["1", "2"], reopened.List("press-1").Select(m => m.Version));
        var second = reopened.Get("press-1", "2")!;
        Assert.Equal(("2", "alice", T0), (second.Card.Version, second.RegisteredBy, second.RegisteredAt));
        Assert.Equal("2", ModelCard.FromJson(Encoding.UTF8.GetString(reopened.ReadModelBytes("press-1", "2"))).Version);
        Assert.Null(reopened.Get("press-1", "3"));
        Assert.Null(reopened.Active("press-1"));
        Assert.Empty(Directory.GetFiles(Path.Combine(_folder.Path, "models", "press-1"), "*.tmp"));
        Assert.Throws<ArgumentException>(() => reopened.Register("../etc", Card(""), Export, "alice"));
        Assert.Throws<ArgumentException>(() => reopened.Register("press-1", Card("oven-2"), Export, "alice"));
    }

    [Fact]
    public void Activation_keeps_one_active_model_per_line_and_the_history_of_who_and_when()
    {
        using var registry = Open();
        for (var i = 0; i < 3; i++)
        {
            registry.Register("press-1", Card(""), c => [1, 2, 3], "alice");
        }

        registry.Register("oven-2", Card(""), c => [4], "bob");
        registry.Activate("press-1", "1", "alice");
        _time.Advance(TimeSpan.FromHours(1));
        registry.Activate("press-1", "3", "bob");
        _time.Advance(TimeSpan.FromHours(1));
        registry.Activate("oven-2", "1", "carol");

        Assert.Equal("3", registry.Active("press-1")!.Version);
        Assert.Equal("1", registry.Active("oven-2")!.Version);
        Assert.Equal(
            [new ModelActivation("press-1", "1", "alice", T0), new ModelActivation("press-1", "3", "bob", T0.AddHours(1))],
            registry.Activations("press-1"));

        var again = Assert.Throws<ModelRegistryException>(() => registry.Activate("press-1", "3", "carol"));
        Assert.Contains("already the active model", again.Message, StringComparison.Ordinal);
        var unknown = Assert.Throws<ModelRegistryException>(() => registry.Activate("press-1", "7", "carol"));
        Assert.Contains("registered: 1, 2, 3", unknown.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => registry.Activate("press-1", "2", ""));
    }

    [Fact]
    public void A_tampered_or_missing_model_file_is_refused()
    {
        using var registry = Open();
        var model = registry.Register("press-1", Card(""), c => Encoding.UTF8.GetBytes(c.ToJson()), "alice");
        Assert.NotEmpty(registry.ReadModelBytes("press-1", "1"));

        var bytes = File.ReadAllBytes(model.File);
        bytes[^2] ^= 0x20;
        File.WriteAllBytes(model.File, bytes);
        var tampered = Assert.Throws<ModelRegistryException>(() => registry.ReadModelBytes("press-1", "1"));
        Assert.Contains("was changed since it was registered", tampered.Message, StringComparison.Ordinal);
        Assert.Contains(model.Sha256, tampered.Message, StringComparison.Ordinal);

        File.Delete(model.File);
        var missing = Assert.Throws<ModelRegistryException>(() => registry.ReadModelBytes("press-1", "1"));
        Assert.Contains("is missing", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_failed_export_registers_nothing_and_leaves_the_version_free()
    {
        using var registry = Open();
        Assert.Throws<InvalidOperationException>(() => registry.Register("press-1", Card(""), c => throw new InvalidOperationException("export failed"), "alice"));
        Assert.Throws<ModelRegistryException>(() => registry.Register("press-1", Card(""), c => [], "alice"));
        Assert.Empty(registry.List("press-1"));
        Assert.Equal("1", registry.Register("press-1", Card(""), c => [1], "alice").Version);
    }

    [Fact]
    public void Alerts_and_the_registry_share_one_record_file()
    {
        using var alerts = TwinGateway.Drift.Alerts.SqliteAlertStore.Open(_folder.Database);
        using var registry = Open();
        registry.Register("press-1", Card(""), c => [1], "alice");
        Assert.Empty(alerts.List(new TwinGateway.Drift.Alerts.AlertFilter()));
        Assert.Single(registry.List("press-1"));
    }

    [Fact]
    public void Two_registries_over_one_file_registering_at_once_get_distinct_versions()
    {
        using var first = Open();
        using var second = Open();
        var versions = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 20, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i =>
            versions.Add((i % 2 == 0 ? first : second).Register("press-1", Card(""), c => [(byte)i], "alice").Version));

        Assert.Equal(Enumerable.Range(1, 20).Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)).Order(), versions.Order());
        Assert.All(first.List("press-1"), m => Assert.NotEmpty(first.ReadModelBytes("press-1", m.Version)));
    }

    private ModelRegistry Open() => ModelRegistry.Open(_folder.Database, _folder.Path, _time);

    private static ModelCard Card(string line) => new(
        line, "", ModelKind.Pca, ["temp:residual", "force:residual"], 10, 1000,
        [0.5f, 1.5f], [1f, 2f], 3.5, 0.999, 1.25, T0.AddDays(-7), T0.AddDays(-1), "abc123", T0, "alice",
        new ModelMetrics(1000, 250, 3.5, 2.8, ImmutableDictionary<string, string>.Empty.Add("components", "2")));
}
