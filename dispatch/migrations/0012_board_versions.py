from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("dispatch", "0010_created_at_from_the_clock")]

    operations = [
        # The unique (technician, day, position) constraint's index serves the queue's reads.
        migrations.RemoveIndex(model_name="servicecall", name="call_queue"),
    ]
