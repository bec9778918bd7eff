using System.Globalization;
using SQLitePCL;
using ServerlessDb.Domain;

namespace ServerlessDb.Engine;

/// <summary>
/// Binds a request statement's parameters. Named parameters (<c>:name</c>, <c>@name</c>, <c>$name</c>)
/// take the value whose key is the name without its prefix; other parameters take positional values
/// in order, continuing across the SQL statements of one string.
/// </summary>
internal sealed class ParameterBinder(Statement statement)
{
    private int _positionalOffset;

    /// <summary>Binds every parameter of <paramref name="prepared"/>; returns an error message when a value is missing.</summary>
    public string? Bind(sqlite3_stmt prepared)
    {
        var count = raw.sqlite3_bind_parameter_count(prepared);
        for (var index = 1; index <= count; index++)
        {
            var name = raw.sqlite3_bind_parameter_name(prepared, index).utf8_to_string();
            if (!TryFindValue(name, index, out var value))
            {
                return $"missing value for parameter {name ?? index.ToString(CultureInfo.InvariantCulture)}: the statement has {count} parameters";
            }

            var rc = BindValue(prepared, index, value);
            if (rc != raw.SQLITE_OK)
            {
                return $"cannot bind parameter {index}: {raw.sqlite3_errstr(rc).utf8_to_string()}";
            }
        }

        _positionalOffset += count;
        return null;
    }

    private bool TryFindValue(string? name, int index, out object? value)
    {
        if (name is { Length: > 1 } && name[0] is ':' or '@' or '$')
        {
            if (statement.Named.TryGetValue(name[1..], out value) || statement.Named.TryGetValue(name, out value))
            {
                return true;
            }
        }
        else if (name is { Length: > 1 } && name[0] == '?' && int.TryParse(name.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            index = number;
        }

        var position = _positionalOffset + index - 1;
        if (position < statement.Positional.Count)
        {
            value = statement.Positional[position];
            return true;
        }

        value = null;
        return false;
    }

    private static int BindValue(sqlite3_stmt prepared, int index, object? value) => value switch
    {
        null => raw.sqlite3_bind_null(prepared, index),
        long integer => raw.sqlite3_bind_int64(prepared, index, integer),
        double real => raw.sqlite3_bind_double(prepared, index, real),
        bool flag => raw.sqlite3_bind_int64(prepared, index, flag ? 1 : 0),
        string text => raw.sqlite3_bind_text(prepared, index, text),
        byte[] blob => raw.sqlite3_bind_blob(prepared, index, blob),
        _ => throw new ArgumentException($"unsupported parameter value of type {value.GetType().Name}", nameof(value)),
    };
}
