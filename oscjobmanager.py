"""The cluster CLI as the researcher's notes type it: ``python oscjobmanager.py submit NAME --dry-run``.

Runs exactly the installed `kdgat-cluster` command (also available as `oscjobmanager`), e.g.

    uv run python oscjobmanager.py submit automotive_synthetic_supervised_gat_student_no_all_samples --dry-run
    uv run python oscjobmanager.py sweep --model-sizes student,teacher --distillations no,standard --dry-run
"""

from kdgat_cluster.cli import main

if __name__ == "__main__":
    main(prog_name="oscjobmanager.py")
