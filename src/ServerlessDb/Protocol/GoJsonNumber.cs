using System.Globalization;
using System.Text;

namespace ServerlessDb.Protocol;

/// <summary>
/// A float64 as Go's encoding/json writes it, which is how rqlite prints <c>time</c> and REAL values:
/// the shortest digits that read back as the same number, in plain decimals (<c>0.0000229</c>,
/// <c>100000000000000000000</c>), and in exponent form only below 1e-6 or from 1e21 on (<c>1e-7</c>,
/// <c>1.5e+21</c>: a lower-case <c>e</c>, a signed exponent, at least two digits when positive).
/// </summary>
internal static class GoJsonNumber
{
    /// <summary>The JSON text of a finite <paramref name="value"/>.</summary>
    public static string Format(double value)
    {
        // .NET's "R" is the shortest round-trip text too; only the layout differs from Go's.
        var shortest = value.ToString("R", CultureInfo.InvariantCulture);
        if (!shortest.Contains('E', StringComparison.Ordinal))
        {
            // Without an exponent .NET has written the shortest digits in plain decimals, as Go does in its
            // plain range (.NET switches to E-form sooner than Go, never later): nothing to rearrange.
            return shortest;
        }

        var negative = shortest.StartsWith('-');
        var unsigned = negative ? shortest[1..] : shortest;
        var e = unsigned.IndexOf('E', StringComparison.Ordinal);
        var mantissa = e < 0 ? unsigned : unsigned[..e];
        var exponent = e < 0 ? 0 : int.Parse(unsigned[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        var dot = mantissa.IndexOf('.', StringComparison.Ordinal);
        var digits = mantissa.Replace(".", string.Empty, StringComparison.Ordinal);

        // value = 0.<digits> × 10^point
        var point = (dot < 0 ? mantissa.Length : dot) + exponent;
        var significant = digits.TrimStart('0');
        point -= digits.Length - significant.Length;
        significant = significant.TrimEnd('0');

        var text = new StringBuilder(32);
        if (negative)
        {
            text.Append('-');
        }

        if (significant.Length == 0)
        {
            return text.Append('0').ToString();
        }

        var abs = Math.Abs(value);
        if (abs < 1e-6 || abs >= 1e21)
        {
            text.Append(significant[0]);
            if (significant.Length > 1)
            {
                text.Append('.').Append(significant, 1, significant.Length - 1);
            }

            var power = point - 1;
            text.Append('e').Append(power < 0 ? '-' : '+');
            // strconv writes at least two exponent digits; encoding/json turns e-07 back into e-7.
            text.Append(Math.Abs(power).ToString(power < 0 ? "D1" : "D2", CultureInfo.InvariantCulture));
        }
        else if (point <= 0)
        {
            text.Append("0.").Append('0', -point).Append(significant);
        }
        else if (point >= significant.Length)
        {
            text.Append(significant).Append('0', point - significant.Length);
        }
        else
        {
            text.Append(significant, 0, point).Append('.').Append(significant, point, significant.Length - point);
        }

        return text.ToString();
    }
}
