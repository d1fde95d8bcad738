package kittyspark.runtime.checkpoint;

/** The transformer families we run. They share one forward pass, switched by config flags. */
public enum Architecture {
    QWEN3("Qwen3ForCausalLM", true),
    LLAMA("LlamaForCausalLM", false);

    private final String hfName;
    private final boolean qkNorm;

    Architecture(String hfName, boolean qkNorm) {
        this.hfName = hfName;
        this.qkNorm = qkNorm;
    }

    public String hfName() {
        return hfName;
    }

    /** Per-head RMSNorm on queries and keys before RoPE (Qwen3). */
    public boolean qkNorm() {
        return qkNorm;
    }

    public static Architecture fromHf(String name) {
        for (Architecture a : values()) {
            if (a.hfName.equals(name)) {
                return a;
            }
        }
        return null;
    }
}
