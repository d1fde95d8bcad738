package kittyspark.pipeline.plan;

import kittyspark.pipeline.ColumnNames;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import scala.Tuple2;

/**
 * Spreads rows over partitions so that each gets a similar amount of work and a similar mix
 * of lengths: rows are ranked longest first and dealt out in snake order (0,1,..,n-1,n-1,..,0),
 * then each partition runs its rows longest first. Range-partitioning by length would instead
 * put all long prompts in one straggler task.
 */
public final class LengthAwarePartitioner {
    private LengthAwarePartitioner() {
    }

    /** The partition of the row ranked {@code rank} (0 = longest) among {@code n} partitions. */
    public static int snake(long rank, int n) {
        long round = rank / n;
        int pos = (int) (rank % n);
        return round % 2 == 0 ? pos : n - 1 - pos;
    }

    /**
     * @param lengthColumn a length estimate per row (longest is dealt first)
     * @param tieColumn    orders rows of equal length, so the dealing is the same on every run
     */
    public static Dataset<Row> spread(SparkSession spark, Dataset<Row> rows, String lengthColumn, String tieColumn,
                                      int partitions) {
        int n = Math.max(1, partitions);
        JavaRDD<Row> dealt = rows.sort(ColumnNames.col(lengthColumn).desc(), ColumnNames.col(tieColumn))
                .javaRDD()
                .zipWithIndex()
                .mapToPair(t -> new Tuple2<>(snake(t._2(), n), t._1()))
                .partitionBy(new Exact(n))
                .values();
        return spark.createDataFrame(dealt, rows.schema()).sortWithinPartitions(ColumnNames.col(lengthColumn).desc());
    }

    /** Partition i holds key i. */
    static final class Exact extends Partitioner {
        private final int n;

        Exact(int n) {
            this.n = n;
        }

        @Override
        public int numPartitions() {
            return n;
        }

        @Override
        public int getPartition(Object key) {
            return (Integer) key;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Exact e && e.n == n;
        }

        @Override
        public int hashCode() {
            return n;
        }
    }
}
