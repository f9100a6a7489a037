"""The water-treatment plant domain: sensor/actuator CSVs -> windows of time steps -> tag graphs.

`sensors` (the `SensorTable`), `sensor_csv` (its reader), `synthetic_plant` and the `adapter`.
"""
