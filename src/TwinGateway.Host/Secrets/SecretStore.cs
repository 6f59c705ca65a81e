using System.Text;
using System.Text.Json;

namespace TwinGateway.Host.Secrets;

/// <summary>
/// The gateway's secrets (controller passwords, the InfluxDB token, key passwords), by name, from three places, each
/// later one winning: a file readable by the service user only (<c>Secrets:File</c>, JSON or <c>name=value</c> lines),
/// environment variables (<c>TWINGW_SECRET_&lt;NAME&gt;</c>, the name in upper case with every other character than a
/// letter or digit as <c>_</c>), and systemd credentials (<c>$CREDENTIALS_DIRECTORY/&lt;name&gt;</c>, what
/// <c>LoadCredential=</c> gives a service). A value never appears in a message of this class: problems name the file,
/// the line number or the secret's name, never its value.
/// </summary>
internal sealed class SecretStore
{
    public const string EnvironmentPrefix = "TWINGW_SECRET_";

    /// <summary>The systemd variable that names the service's credentials folder.</summary>
    public const string CredentialsDirectoryVariable = "CREDENTIALS_DIRECTORY";

    private const UnixFileMode GroupOrOther =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    private readonly Dictionary<string, string> _file;
    private readonly string? _filePath;
    private readonly string? _credentialsDirectory;
    private readonly Func<string, string?> _environment;

    private SecretStore(Dictionary<string, string> file, string? filePath, string? credentialsDirectory, Func<string, string?> environment)
    {
        _file = file;
        _filePath = filePath;
        _credentialsDirectory = credentialsDirectory;
        _environment = environment;
    }

    /// <summary>
    /// Opens the store: reads <paramref name="file"/> (when given) after checking that only its owner can read it.
    /// </summary>
    /// <exception cref="SecretStoreException">The file is missing, readable by group or others, or malformed.</exception>
    public static SecretStore Open(string? file, string? credentialsDirectory, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        string? path = null;
        if (!string.IsNullOrWhiteSpace(file))
        {
            path = Path.GetFullPath(file);
            if (!File.Exists(path))
            {
                throw new SecretStoreException($"Secrets:File '{path}' does not exist (create it, readable by the service user only: `chmod 600 {path}`, or remove the setting)");
            }

            if (TooOpen(path) is { } problem)
            {
                throw new SecretStoreException(problem);
            }

            Parse(path, File.ReadAllText(path, Encoding.UTF8), values);
        }

        return new SecretStore(values, path, string.IsNullOrWhiteSpace(credentialsDirectory) ? null : credentialsDirectory, environment);
    }

    /// <summary>The problem when group or others may read, write or run <paramref name="path"/>; null when only its owner may.</summary>
    public static string? TooOpen(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return null;
        }

        var mode = File.GetUnixFileMode(path);
        return (mode & GroupOrOther) == 0
            ? null
            : $"the secret file '{path}' can be read by others (mode {Convert.ToString((int)mode, 8)}): run `chmod 600 {path}` so that only the gateway's service user can read it";
    }

    /// <summary>The environment variable that holds the secret <paramref name="name"/>.</summary>
    public static string EnvironmentName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var text = new StringBuilder(EnvironmentPrefix, EnvironmentPrefix.Length + name.Length);
        foreach (var c in name)
        {
            text.Append(char.IsAsciiLetterOrDigit(c) ? char.ToUpperInvariant(c) : '_');
        }

        return text.ToString();
    }

    /// <summary>The secret <paramref name="name"/> and where it came from (never the value in <paramref name="source"/>).</summary>
    public bool TryGet(string name, out string value, out string source)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (_credentialsDirectory is not null && IsPlainName(name))
        {
            var credential = Path.Combine(_credentialsDirectory, name);
            if (File.Exists(credential))
            {
                value = File.ReadAllText(credential, Encoding.UTF8).TrimEnd('\r', '\n');
                source = $"systemd credential {credential}";
                return true;
            }
        }

        var variable = EnvironmentName(name);
        if (_environment(variable) is { Length: > 0 } fromEnvironment)
        {
            value = fromEnvironment;
            source = $"environment variable {variable}";
            return true;
        }

        if (_file.TryGetValue(name, out var fromFile))
        {
            value = fromFile;
            source = $"secret file {_filePath}";
            return true;
        }

        value = "";
        source = "";
        return false;
    }

    /// <summary>The names the file and the systemd credentials folder hold (the environment's cannot be read back to names).</summary>
    public IEnumerable<string> KnownNames()
    {
        var names = new SortedSet<string>(_file.Keys, StringComparer.Ordinal);
        if (_credentialsDirectory is not null && Directory.Exists(_credentialsDirectory))
        {
            foreach (var file in Directory.EnumerateFiles(_credentialsDirectory))
            {
                names.Add(Path.GetFileName(file));
            }
        }

        return names;
    }

    private static bool IsPlainName(string name) =>
        name.Length > 0 && name.IndexOfAny(['/', '\\']) < 0 && name is not ("." or "..");

    /// <summary>A JSON object (nested objects give dotted names) or <c>name=value</c> lines (<c>#</c> comments).</summary>
    private static void Parse(string path, string text, Dictionary<string, string> values)
    {
        if (text.TrimStart().StartsWith('{'))
        {
            try
            {
                using var json = JsonDocument.Parse(text);
                Flatten(path, "", json.RootElement, values);
            }
            catch (JsonException ex)
            {
                // The parser's message quotes no value, only the position.
                throw new SecretStoreException($"the secret file '{path}' is not valid JSON (line {ex.LineNumber + 1}); write an object of names and string values, or name=value lines");
            }

            return;
        }

        var number = 0;
        foreach (var raw in text.Split('\n'))
        {
            number++;
            var line = raw.TrimEnd('\r');
            if (line.Trim() is "" || line.TrimStart().StartsWith('#'))
            {
                continue;
            }

            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || line[..equals].Trim() is "")
            {
                throw new SecretStoreException($"the secret file '{path}' line {number} is not name=value (the line is not shown: it may hold a secret)");
            }

            values[line[..equals].Trim()] = line[(equals + 1)..];
        }
    }

    private static void Flatten(string path, string prefix, JsonElement element, Dictionary<string, string> values)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new SecretStoreException($"the secret file '{path}' must hold a JSON object of names and string values");
        }

        foreach (var property in element.EnumerateObject())
        {
            var name = prefix + property.Name;
            switch (property.Value.ValueKind)
            {
                case JsonValueKind.String:
                    values[name] = property.Value.GetString()!;
                    break;
                case JsonValueKind.Object:
                    Flatten(path, name + ".", property.Value, values);
                    break;
                default:
                    throw new SecretStoreException($"the secret file '{path}': '{name}' must be a string (or an object of them)");
            }
        }
    }
}

/// <summary>The secret store cannot be used; the message names the file and the fix, never a secret's value.</summary>
internal sealed class SecretStoreException(string message) : Exception(message);
