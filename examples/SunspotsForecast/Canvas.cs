namespace MlNet.Rnn.Examples.SunspotsForecast;

/// <summary>An RGB raster with the few drawing operations a line chart needs: lines, rectangles, vertical bands and digits.</summary>
public sealed class Canvas(int width, int height)
{
    // 3×5 glyphs for "0123456789-", one row of 3 bits per line, top to bottom.
    private static readonly Dictionary<char, int[]> s_glyphs = new()
    {
        ['0'] = [7, 5, 5, 5, 7], ['1'] = [2, 6, 2, 2, 7], ['2'] = [7, 1, 7, 4, 7], ['3'] = [7, 1, 7, 1, 7], ['4'] = [5, 5, 7, 1, 1],
        ['5'] = [7, 4, 7, 1, 7], ['6'] = [7, 4, 7, 5, 7], ['7'] = [7, 1, 1, 1, 1], ['8'] = [7, 5, 7, 5, 7], ['9'] = [7, 5, 7, 1, 7],
        ['-'] = [0, 0, 7, 0, 0],
    };

    /// <summary>Pixels <c>[height, width, 3]</c>, white to start with.</summary>
    public byte[] Pixels { get; } = Enumerable.Repeat((byte)255, width * height * 3).ToArray();

    /// <summary>Width in pixels.</summary>
    public int Width => width;

    /// <summary>Height in pixels.</summary>
    public int Height => height;

    /// <summary>Colours one pixel; points outside the canvas are ignored.</summary>
    public void Set(int x, int y, (byte R, byte G, byte B) color)
    {
        if ((uint)x >= (uint)width || (uint)y >= (uint)height) return;
        int i = (y * width + x) * 3;
        (Pixels[i], Pixels[i + 1], Pixels[i + 2]) = color;
    }

    /// <summary>Fills the rectangle [x0, x1] × [y0, y1].</summary>
    public void FillRectangle(int x0, int y0, int x1, int y1, (byte, byte, byte) color)
    {
        for (int y = Math.Min(y0, y1); y <= Math.Max(y0, y1); y++)
            for (int x = Math.Min(x0, x1); x <= Math.Max(x0, x1); x++) Set(x, y, color);
    }

    /// <summary>A line from (x0, y0) to (x1, y1), <paramref name="thickness"/> pixels wide; every <paramref name="dash"/>-th pixel run is skipped when dashed.</summary>
    public void Line(double x0, double y0, double x1, double y1, (byte, byte, byte) color, int thickness = 1, int dash = 0)
    {
        int steps = (int)Math.Ceiling(Math.Max(Math.Abs(x1 - x0), Math.Abs(y1 - y0))) + 1;
        for (int s = 0; s <= steps; s++)
        {
            if (dash > 0 && s / dash % 2 == 1) continue;
            double x = x0 + (x1 - x0) * s / steps, y = y0 + (y1 - y0) * s / steps;
            int cx = (int)Math.Round(x), cy = (int)Math.Round(y);
            for (int dy = -(thickness - 1) / 2; dy <= thickness / 2; dy++)
                for (int dx = -(thickness - 1) / 2; dx <= thickness / 2; dx++) Set(cx + dx, cy + dy, color);
        }
    }

    /// <summary>Fills, column by column, between two polylines given at the same x positions.</summary>
    public void Band(IReadOnlyList<double> xs, IReadOnlyList<double> lower, IReadOnlyList<double> upper, (byte, byte, byte) color)
    {
        for (int i = 0; i + 1 < xs.Count; i++)
            for (int x = (int)Math.Round(xs[i]); x <= (int)Math.Round(xs[i + 1]); x++)
            {
                double f = xs[i + 1] == xs[i] ? 0 : (x - xs[i]) / (xs[i + 1] - xs[i]);
                double top = upper[i] + f * (upper[i + 1] - upper[i]), bottom = lower[i] + f * (lower[i + 1] - lower[i]);
                for (int y = (int)Math.Round(Math.Min(top, bottom)); y <= (int)Math.Round(Math.Max(top, bottom)); y++) Set(x, y, color);
            }
    }

    /// <summary>Writes digits and '-' with their top-left corner at (x, y), each glyph 3×5 cells of <paramref name="scale"/> pixels.</summary>
    public void Text(int x, int y, string text, (byte, byte, byte) color, int scale = 2)
    {
        foreach (char c in text)
        {
            if (s_glyphs.TryGetValue(c, out int[]? rows))
                for (int r = 0; r < 5; r++)
                    for (int b = 0; b < 3; b++)
                        if ((rows[r] >> (2 - b) & 1) != 0) FillRectangle(x + b * scale, y + r * scale, x + (b + 1) * scale - 1, y + (r + 1) * scale - 1, color);
            x += 4 * scale;
        }
    }
}
