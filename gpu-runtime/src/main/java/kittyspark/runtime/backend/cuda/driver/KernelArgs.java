package kittyspark.runtime.backend.cuda.driver;

import java.util.ArrayList;
import java.util.List;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

/** A kernel's parameter list for cuLaunchKernel, in declaration order. */
public final class KernelArgs {
    private final List<Pointer> args = new ArrayList<>();

    /** A device pointer; null passes a null pointer (an absent optional operand). */
    public KernelArgs ptr(CUdeviceptr p) {
        args.add(Pointer.to(p == null ? new CUdeviceptr() : p));
        return this;
    }

    public KernelArgs i32(int v) {
        args.add(Pointer.to(new int[] {v}));
        return this;
    }

    public KernelArgs i64(long v) {
        args.add(Pointer.to(new long[] {v}));
        return this;
    }

    public KernelArgs f32(float v) {
        args.add(Pointer.to(new float[] {v}));
        return this;
    }

    public Pointer build() {
        return Pointer.to(args.toArray(new Pointer[0]));
    }
}
