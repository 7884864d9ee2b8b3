using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MlNet.Rnn.Core.Kernels;

/// <summary>
/// A group of float lanes of one width, with the handful of operations the fused cell kernels need, so that a
/// kernel's equations are written once as a generic method and <see cref="LaneLoop"/> runs them at every width:
/// <see cref="Lanes512"/>, <see cref="Lanes256"/>, <see cref="Lanes128"/> and the scalar tail <see cref="Lane1"/>.
/// </summary>
/// <remarks>
/// The runtime's own abstraction of this, <c>System.Runtime.Intrinsics.ISimdVector&lt;TSelf, T&gt;</c>, is internal in
/// .NET 10 (absent from the reference assembly), so the core has its own. Each implementation is a struct wrapping one
/// <see cref="Vector512{T}"/>, <see cref="Vector256{T}"/>, <see cref="Vector128{T}"/> or float, with every member
/// aggressively inlined: compiled one width per method (<see cref="LaneLoop"/>), the JIT keeps the wrapped value in a
/// register, as it would the bare vector.
/// </remarks>
/// <typeparam name="TSelf">The implementing struct.</typeparam>
internal interface ILanes<TSelf> where TSelf : struct, ILanes<TSelf>
{
    /// <summary>Lanes processed at once.</summary>
    static abstract int Count { get; }

    /// <summary>Whether this width runs in hardware (the driver skips a width that does not).</summary>
    static abstract bool IsHardwareAccelerated { get; }

    /// <summary>1 in every lane.</summary>
    static abstract TSelf One { get; }

    /// <summary>0 in every lane.</summary>
    static abstract TSelf Zero { get; }

    /// <summary><paramref name="value"/> in every lane.</summary>
    static abstract TSelf Create(float value);

    /// <summary>Lanes <c>source[index .. index + Count)</c>.</summary>
    static abstract TSelf Load(ref float source, nuint index);

    /// <summary>Writes the lanes to <c>destination[index .. index + Count)</c>.</summary>
    void Store(ref float destination, nuint index);

    /// <summary>min(x, y) per lane; NaN where <paramref name="y"/> is NaN (on .NET 9 and later also where x is: put the operand that may be NaN second).</summary>
    /// <remarks>.NET 8's vector Min and Max are the x86 <c>minps</c>/<c>maxps</c>, which return the second operand when either is NaN.</remarks>
    static abstract TSelf Min(TSelf x, TSelf y);

    /// <summary>max(x, y) per lane; NaN where <paramref name="y"/> is NaN (on .NET 9 and later also where x is: put the operand that may be NaN second).</summary>
    /// <remarks>.NET 8's vector Min and Max are the x86 <c>minps</c>/<c>maxps</c>, which return the second operand when either is NaN.</remarks>
    static abstract TSelf Max(TSelf x, TSelf y);

    /// <summary>The nearest integer per lane, ties to even.</summary>
    static abstract TSelf Round(TSelf x);

    /// <summary>2^n per lane for integral <paramref name="n"/> in [−126, 127] (built from the exponent bits).</summary>
    static abstract TSelf PowerOfTwo(TSelf n);

    /// <summary><c>x·y + z</c> per lane, fused (one rounding) where the hardware has FMA.</summary>
    static abstract TSelf MultiplyAdd(TSelf x, TSelf y, TSelf z);

    /// <summary><paramref name="value"/> where <paramref name="condition"/> &gt; 0, else 0, per lane.</summary>
    static abstract TSelf WherePositive(TSelf condition, TSelf value);

    /// <summary>Sum per lane.</summary>
    static abstract TSelf operator +(TSelf x, TSelf y);

    /// <summary>Difference per lane.</summary>
    static abstract TSelf operator -(TSelf x, TSelf y);

    /// <summary>Negation per lane.</summary>
    static abstract TSelf operator -(TSelf x);

    /// <summary>Product per lane.</summary>
    static abstract TSelf operator *(TSelf x, TSelf y);

    /// <summary>Quotient per lane.</summary>
    static abstract TSelf operator /(TSelf x, TSelf y);
}

/// <summary>16 lanes in a <see cref="Vector512{T}"/>.</summary>
internal readonly struct Lanes512(Vector512<float> value) : ILanes<Lanes512>
{
    private readonly Vector512<float> _value = value;

    public static int Count => Vector512<float>.Count;

    public static bool IsHardwareAccelerated => Vector512.IsHardwareAccelerated;

    public static Lanes512 One => new(Vector512<float>.One);

    public static Lanes512 Zero => new(Vector512<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 Create(float value) => new(Vector512.Create(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 Load(ref float source, nuint index) => new(Vector512.LoadUnsafe(ref source, index));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(ref float destination, nuint index) => _value.StoreUnsafe(ref destination, index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 Min(Lanes512 x, Lanes512 y) => new(Vector512.Min(x._value, y._value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 Max(Lanes512 x, Lanes512 y) => new(Vector512.Max(x._value, y._value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 Round(Lanes512 x) => new(Vector512.Round(x._value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 PowerOfTwo(Lanes512 n) =>
        new(Vector512.ShiftLeft(Vector512.ConvertToInt32Native(n._value) + Vector512.Create(127), 23).AsSingle());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 MultiplyAdd(Lanes512 x, Lanes512 y, Lanes512 z) => new(Vector512.MultiplyAddEstimate(x._value, y._value, z._value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 WherePositive(Lanes512 condition, Lanes512 value) =>
        new(Vector512.ConditionalSelect(Vector512.GreaterThan(condition._value, Vector512<float>.Zero), value._value, Vector512<float>.Zero));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 operator +(Lanes512 x, Lanes512 y) => new(x._value + y._value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 operator -(Lanes512 x, Lanes512 y) => new(x._value - y._value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 operator -(Lanes512 x) => new(-x._value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 operator *(Lanes512 x, Lanes512 y) => new(x._value * y._value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 operator /(Lanes512 x, Lanes512 y) => new(x._value / y._value);
}

/// <summary>8 lanes in a <see cref="Vector256{T}"/>.</summary>
internal readonly struct Lanes256(Vector256<float> value) : ILanes<Lanes256>
{
    private readonly Vector256<float> _value = value;

    public static int Count => Vector256<float>.Count;

    public static bool IsHardwareAccelerated => Vector256.IsHardwareAccelerated;

    public static Lanes256 One => new(Vector256<float>.One);

    public static Lanes256 Zero => new(Vector256<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 Create(float value) => new(Vector256.Create(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 Load(ref float source, nuint index) => new(Vector256.LoadUnsafe(ref source, index));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(ref float destination, nuint index) => _value.StoreUnsafe(ref destination, index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 Min(Lanes256 x, Lanes256 y) => new(Vector256.Min(x._value, y._value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 Max(Lanes256 x, Lanes256 y) => new(Vector256.Max(x._value, y._value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 Round(Lanes256 x) => new(Vector256.Round(x._value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 PowerOfTwo(Lanes256 n) =>
        new(Vector256.ShiftLeft(Vector256.ConvertToInt32Native(n._value) + Vector256.Create(127), 23).AsSingle());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 MultiplyAdd(Lanes256 x, Lanes256 y, Lanes256 z) => new(Vector256.MultiplyAddEstimate(x._value, y._value, z._value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 WherePositive(Lanes256 condition, Lanes256 value) =>
        new(Vector256.ConditionalSelect(Vector256.GreaterThan(condition._value, Vector256<float>.Zero), value._value, Vector256<float>.Zero));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 operator +(Lanes256 x, Lanes256 y) => new(x._value + y._value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 operator -(Lanes256 x, Lanes256 y) => new(x._value - y._value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 operator -(Lanes256 x) => new(-x._value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 operator *(Lanes256 x, Lanes256 y) => new(x._value * y._value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 operator /(Lanes256 x, Lanes256 y) => new(x._value / y._value);
}

/// <summary>4 lanes in a <see cref="Vector128{T}"/>.</summary>
internal readonly struct Lanes128(Vector128<float> value) : ILanes<Lanes128>
{
    private readonly Vector128<float> _value = value;

    public static int Count => Vector128<float>.Count;

    public static bool IsHardwareAccelerated => Vector128.IsHardwareAccelerated;

    public static Lanes128 One => new(Vector128<float>.One);

    public static Lanes128 Zero => new(Vector128<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 Create(float value) => new(Vector128.Create(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 Load(ref float source, nuint index) => new(Vector128.LoadUnsafe(ref source, index));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(ref float destination, nuint index) => _value.StoreUnsafe(ref destination, index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 Min(Lanes128 x, Lanes128 y) => new(Vector128.Min(x._value, y._value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 Max(Lanes128 x, Lanes128 y) => new(Vector128.Max(x._value, y._value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 Round(Lanes128 x) => new(Vector128.Round(x._value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 PowerOfTwo(Lanes128 n) =>
        new(Vector128.ShiftLeft(Vector128.ConvertToInt32Native(n._value) + Vector128.Create(127), 23).AsSingle());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 MultiplyAdd(Lanes128 x, Lanes128 y, Lanes128 z) => new(Vector128.MultiplyAddEstimate(x._value, y._value, z._value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 WherePositive(Lanes128 condition, Lanes128 value) =>
        new(Vector128.ConditionalSelect(Vector128.GreaterThan(condition._value, Vector128<float>.Zero), value._value, Vector128<float>.Zero));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 operator +(Lanes128 x, Lanes128 y) => new(x._value + y._value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 operator -(Lanes128 x, Lanes128 y) => new(x._value - y._value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 operator -(Lanes128 x) => new(-x._value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 operator *(Lanes128 x, Lanes128 y) => new(x._value * y._value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 operator /(Lanes128 x, Lanes128 y) => new(x._value / y._value);
}

/// <summary>One lane: the scalar tail, by the same formulas.</summary>
internal readonly struct Lane1(float value) : ILanes<Lane1>
{
    private readonly float _value = value;

    public static int Count => 1;

    public static bool IsHardwareAccelerated => true;

    public static Lane1 One => new(1f);

    public static Lane1 Zero => new(0f);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane1 Create(float value) => new(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane1 Load(ref float source, nuint index) => new(Unsafe.Add(ref source, index));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(ref float destination, nuint index) => Unsafe.Add(ref destination, index) = _value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane1 Min(Lane1 x, Lane1 y) => new(MathF.Min(x._value, y._value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane1 Max(Lane1 x, Lane1 y) => new(MathF.Max(x._value, y._value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane1 Round(Lane1 x) => new(MathF.Round(x._value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane1 PowerOfTwo(Lane1 n) => new(BitConverter.Int32BitsToSingle(((int)n._value + 127) << 23));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane1 MultiplyAdd(Lane1 x, Lane1 y, Lane1 z) => new(float.MultiplyAddEstimate(x._value, y._value, z._value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane1 WherePositive(Lane1 condition, Lane1 value) => new(condition._value > 0f ? value._value : 0f);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane1 operator +(Lane1 x, Lane1 y) => new(x._value + y._value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane1 operator -(Lane1 x, Lane1 y) => new(x._value - y._value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane1 operator -(Lane1 x) => new(-x._value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane1 operator *(Lane1 x, Lane1 y) => new(x._value * y._value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane1 operator /(Lane1 x, Lane1 y) => new(x._value / y._value);
}
