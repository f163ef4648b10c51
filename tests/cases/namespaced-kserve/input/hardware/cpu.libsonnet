local rtc = import 'catalog/lib/rtc.libsonnet';

rtc.hardware { name: 'cpu', family: 'cpu' }
