#if !NET9_0_OR_GREATER
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace MlNet.Rnn.Core.Kernels;

/// <summary>
/// The vector operations .NET 9 added that the kernels use, for the <c>net8.0</c> build: the same instructions through the
/// hardware intrinsics .NET 8 has, so both builds compute the same bits. On .NET 9 and later this file compiles to nothing.
/// </summary>
/// <remarks>
/// <c>MultiplyAddEstimate</c> is .NET 9's contract: one fused multiply-add where the hardware has it, else a multiply and an
/// add. <c>FusedMultiplyAdd</c> on 512 bits is only reached where <see cref="Vector512.IsHardwareAccelerated"/>, which on x86
/// means AVX-512F. <c>Round</c> rounds half to even, as .NET 9's does.
/// </remarks>
internal static class Net8Vectors
{
    extension(Vector512)
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> FusedMultiplyAdd(Vector512<float> left, Vector512<float> right, Vector512<float> addend) =>
            Avx512F.IsSupported ? Avx512F.FusedMultiplyAdd(left, right, addend) : left * right + addend;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> MultiplyAddEstimate(Vector512<float> left, Vector512<float> right, Vector512<float> addend) =>
            Vector512.FusedMultiplyAdd(left, right, addend);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Round(Vector512<float> x) =>
            Avx512F.IsSupported
                ? Avx512F.RoundScale(x, 0x08)   // nearest, ties to even, no precision exception
                : Vector512.Create(Vector256.Round(x.GetLower()), Vector256.Round(x.GetUpper()));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<int> ConvertToInt32Native(Vector512<float> x) => Vector512.ConvertToInt32(x);
    }

    extension(Vector256)
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> MultiplyAddEstimate(Vector256<float> left, Vector256<float> right, Vector256<float> addend) =>
            Fma.IsSupported ? Fma.MultiplyAdd(left, right, addend) : left * right + addend;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Round(Vector256<float> x) =>
            Avx.IsSupported ? Avx.RoundToNearestInteger(x) : Vector256.Create(Vector128.Round(x.GetLower()), Vector128.Round(x.GetUpper()));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> ConvertToInt32Native(Vector256<float> x) => Vector256.ConvertToInt32(x);
    }

    extension(Vector128)
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> MultiplyAddEstimate(Vector128<float> left, Vector128<float> right, Vector128<float> addend) =>
            Fma.IsSupported ? Fma.MultiplyAdd(left, right, addend)
            : AdvSimd.IsSupported ? AdvSimd.FusedMultiplyAdd(addend, left, right)
            : left * right + addend;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Round(Vector128<float> x)
        {
            if (Sse41.IsSupported) return Sse41.RoundToNearestInteger(x);
            if (AdvSimd.IsSupported) return AdvSimd.RoundToNearest(x);
            // 1.5·2²³ pushes every fraction out of the mantissa, rounding half to even; |x| ≥ 2²² is already whole.
            var shift = Vector128.Create(12582912f);
            var rounded = x + shift - shift;
            return Vector128.ConditionalSelect(Vector128.LessThan(Vector128.Abs(x), Vector128.Create(4194304f)), rounded, x);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<int> ConvertToInt32Native(Vector128<float> x) => Vector128.ConvertToInt32(x);
    }

    extension(float)
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float MultiplyAddEstimate(float left, float right, float addend) =>
            Fma.IsSupported || AdvSimd.IsSupported ? MathF.FusedMultiplyAdd(left, right, addend) : left * right + addend;
    }
}
#endif
