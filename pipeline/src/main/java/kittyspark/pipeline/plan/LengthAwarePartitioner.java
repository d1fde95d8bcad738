package kittyspark.pipeline.plan;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;

import kittyspark.pipeline.ColumnNames;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaPairRDD;
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
    /**
     * Inputs of up to this many rows are ranked on the driver from their collected keys (a few
     * dozen bytes a row): one job without a shuffle, where Spark's global sort costs a sampling
     * job, a shuffle and a count. Larger ones are sorted by Spark.
     */
    public static final long RANK_ON_DRIVER_ROWS = 100_000;

    private LengthAwarePartitioner() {
    }

    /** The partition of the row ranked {@code rank} (0 = longest) among {@code n} partitions. */
    public static int snake(long rank, int n) {
        long round = rank / n;
        int pos = (int) (rank % n);
        return round % 2 == 0 ? pos : n - 1 - pos;
    }

    /**
     * @param lengthColumn an int length estimate per row (longest is dealt first)
     * @param tieColumn    a string that orders rows of equal length, so the dealing is the same on every run
     * @param expectedRows about how many rows {@code rows} holds: up to {@link #RANK_ON_DRIVER_ROWS}
     *                     they are ranked on the driver
     */
    public static Dataset<Row> spread(SparkSession spark, Dataset<Row> rows, String lengthColumn, String tieColumn,
                                      int partitions, long expectedRows) {
        JavaPairRDD<Long, Row> ranked = expectedRows <= RANK_ON_DRIVER_ROWS
                ? rankedOnDriver(rows, lengthColumn, tieColumn)
                : rankedBySort(rows, lengthColumn, tieColumn);
        return spark.createDataFrame(deal(ranked, partitions), rows.schema());
    }

    /** Rows keyed by rank go to their snake partition, where they run in rank order (longest first). */
    static JavaRDD<Row> deal(JavaPairRDD<Long, Row> ranked, int partitions) {
        return ranked.repartitionAndSortWithinPartitions(new Snake(Math.max(1, partitions))).values();
    }

    /** Each row keyed by its position in Spark's global sort (length descending, then tie value). */
    static JavaPairRDD<Long, Row> rankedBySort(Dataset<Row> rows, String lengthColumn, String tieColumn) {
        return rows.sort(ColumnNames.col(lengthColumn).desc(), ColumnNames.col(tieColumn))
                .javaRDD()
                .zipWithIndex()
                .mapToPair(t -> new Tuple2<>(t._2(), t._1()));
    }

    /**
     * Each row keyed by its rank among the keys collected to the driver: the ranks of
     * {@link #rankedBySort}, except that rows sharing both length and tie value (which the sort
     * leaves in no particular order) share the first one's rank, and so its partition.
     */
    static JavaPairRDD<Long, Row> rankedOnDriver(Dataset<Row> rows, String lengthColumn, String tieColumn) {
        HashMap<String, Long> rankOf = ranks(rows.select(ColumnNames.col(lengthColumn), ColumnNames.col(tieColumn))
                .collectAsList());
        int lengthAt = rows.schema().fieldIndex(lengthColumn);
        int tieAt = rows.schema().fieldIndex(tieColumn);
        return rows.javaRDD().mapToPair(r -> new Tuple2<>(rankOf.get(key(r.getInt(lengthAt), r.getString(tieAt))), r));
    }

    /** Each (length, tie value) key's first position when ranked longest first, then by tie value. */
    static HashMap<String, Long> ranks(List<Row> keys) {
        List<Row> ranked = new ArrayList<>(keys);
        ranked.sort(Comparator.<Row>comparingInt(r -> r.getInt(0)).reversed()
                .thenComparing(r -> r.getString(1), Comparator.nullsFirst(Comparator.naturalOrder())));
        HashMap<String, Long> out = new HashMap<>();
        for (int rank = 0; rank < ranked.size(); rank++) {
            out.putIfAbsent(key(ranked.get(rank).getInt(0), ranked.get(rank).getString(1)), (long) rank);
        }
        return out;
    }

    private static String key(int length, String tie) {
        return length + "/" + tie;
    }

    /** Rank r goes to partition {@link #snake}(r, n). */
    static final class Snake extends Partitioner {
        private final int n;

        Snake(int n) {
            this.n = n;
        }

        @Override
        public int numPartitions() {
            return n;
        }

        @Override
        public int getPartition(Object key) {
            return snake((Long) key, n);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Snake s && s.n == n;
        }

        @Override
        public int hashCode() {
            return n;
        }
    }
}
