from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("dispatch", "0011_append_only_events")]

    operations = [
        # The unique (technician, day, position) constraint's index serves the queue's reads.
        migrations.RemoveIndex(model_name="servicecall", name="call_queue"),
    ]
