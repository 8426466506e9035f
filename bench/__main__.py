"""`make bench`: run every benchmark in bench/ and print its table."""

from bench import detector_throughput

if __name__ == "__main__":
    detector_throughput.main()
